package io.sparklora.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters in the Prometheus text exposition format (version 0.0.4): requests by endpoint and status,
 * a request-latency histogram, prompt and completion tokens, and the adapter cache's and engine's own counters.
 */
final class Metrics {
    private static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>(); // "endpoint|status" -> count
    private final LongAdder[] latencyBuckets = new LongAdder[BUCKETS.length];
    private final LongAdder latencyCount = new LongAdder();
    private final DoubleAdder latencySum = new DoubleAdder();
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong completionTokens = new AtomicLong();

    Metrics() {
        for (int i = 0; i < BUCKETS.length; i++) {
            latencyBuckets[i] = new LongAdder();
        }
    }

    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + "|" + status, k -> new LongAdder()).increment();
        latencyCount.increment();
        latencySum.add(seconds);
        for (int i = 0; i < BUCKETS.length; i++) {
            if (seconds <= BUCKETS[i]) {
                latencyBuckets[i].increment();
            }
        }
    }

    String render(AdapterCache cache, Engine engine) {
        StringBuilder b = new StringBuilder();
        b.append("# HELP sparklora_requests_total HTTP requests by endpoint and status.\n");
        b.append("# TYPE sparklora_requests_total counter\n");
        new TreeMap<>(requests).forEach((k, v) -> {
            String[] p = k.split("\\|");
            b.append("sparklora_requests_total{endpoint=\"").append(p[0]).append("\",status=\"").append(p[1])
                    .append("\"} ").append(v.sum()).append('\n');
        });
        b.append("# HELP sparklora_request_seconds Request latency (until the last byte of the response).\n");
        b.append("# TYPE sparklora_request_seconds histogram\n");
        for (int i = 0; i < BUCKETS.length; i++) {
            b.append("sparklora_request_seconds_bucket{le=\"").append(BUCKETS[i]).append("\"} ")
                    .append(latencyBuckets[i].sum()).append('\n');
        }
        b.append("sparklora_request_seconds_bucket{le=\"+Inf\"} ").append(latencyCount.sum()).append('\n');
        b.append("sparklora_request_seconds_sum ").append(latencySum.sum()).append('\n');
        b.append("sparklora_request_seconds_count ").append(latencyCount.sum()).append('\n');
        counter(b, "sparklora_prompt_tokens_total", "Prompt tokens of completion requests.", promptTokens.get());
        counter(b, "sparklora_completion_tokens_total", "Generated tokens.", completionTokens.get());
        counter(b, "sparklora_engine_steps_total", "Batched decoder steps.", engine.steps());
        counter(b, "sparklora_engine_rows_total", "Token rows run by the decoder.", engine.rowsRun());
        counter(b, "sparklora_engine_lora_rows_total", "Rows a LoRA update ran over, summed over linear layers (0 "
                + "when merged).", engine.loraRows());
        b.append("# HELP sparklora_engine_cpu_seconds_total CPU time of the decode thread (its own clock).\n");
        b.append("# TYPE sparklora_engine_cpu_seconds_total counter\n").append("sparklora_engine_cpu_seconds_total ")
                .append(engine.cpuNanos() / 1e9).append('\n');
        gauge(b, "sparklora_queue_depth", "Requests waiting for the engine.", engine.queued());
        if (cache != null) {
            counter(b, "sparklora_adapter_cache_hits_total", "Adapter lookups served from RAM.", cache.hits());
            counter(b, "sparklora_adapter_cache_loads_total", "Adapters loaded from storage.", cache.loads());
            counter(b, "sparklora_adapter_cache_evictions_total", "Adapters evicted.", cache.evictions());
            gauge(b, "sparklora_adapter_cache_bytes", "Bytes of adapters in RAM.", cache.bytesCached());
            gauge(b, "sparklora_adapter_cache_entries", "Adapters in RAM.", cache.entries());
            gauge(b, "sparklora_adapter_cache_max_bytes", "The cache's byte budget.", cache.maxBytes());
        }
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, long v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(v).append('\n');
    }
}
