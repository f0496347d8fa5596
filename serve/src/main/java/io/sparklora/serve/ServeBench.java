package io.sparklora.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.util.SplitMix64;
import io.sparklora.util.Spread;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * {@code bench-serve}: real servers on loopback, driven over HTTP. Reports the switch time between cached adapters
 * (an {@link AdapterCache} hit: a map lookup, the base untouched), greedy completion throughput (tokens/s) and p50/p99
 * request latency with {@code clients} concurrent clients all naming one adapter and spread over {@code adapters}
 * distinct ones, and the median latency of one request at a time on {@code --merge} against the base's. Everything
 * is interleaved, never all of one then all of the other: in each of {@code repeats} rounds the two load phases run
 * (which goes first alternates), then one-at-a-time requests cycle base, merged, unmerged, merged, so each request
 * follows one to the other server. Every ratio is taken within one round — the machine may be shared, so noise hits
 * both sides — and reported as its median (min–max) over the rounds, as are the figures themselves
 * ({@code over_repeats}).
 *
 * @see <a href="https://arxiv.org/abs/2311.03285">S-LoRA</a> for the cross-adapter batching being measured
 */
public final class ServeBench {
    /**
     * What to run.
     *
     * @param model null: a random LLaMA base of dim 256, 4 layers, 4 heads, vocab 256 (the bench's "tiny" preset)
     */
    public record Options(Path model, int adapters, int rank, int clients, int requests, int promptTokens,
                          int maxTokens, int repeats) {
        public Options {
            if (adapters < 2 || rank < 1 || clients < 1 || requests < clients || promptTokens < 1 || maxTokens < 1
                    || repeats < 1) {
                throw new IllegalArgumentException("Invalid bench-serve options " + this + ": need adapters >= 2, "
                        + "requests >= clients >= 1, and positive rank, prompt and max tokens and repeats");
            }
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /**
     * One cycle of the sequential comparison: base (cached server), b0 merged, b0 unmerged (cached), b0 merged, the
     * base served alone (a server with no adapters: the base's own latency), b0 merged.
     */
    static final int[] SEQUENTIAL_ORDER = {0, 1, 2, 1, 3, 1};
    /** The servers of {@link #SEQUENTIAL_ORDER}'s targets: 0 cached, 1 merged, 2 alone. */
    static final int[] SEQUENTIAL_SERVER = {0, 1, 0, 2};
    static final int SEQUENTIAL_CYCLES = 24;
    /** The figures summarised over the repeats under {@code over_repeats}. */
    private static final String[] FIGURES = {"single_adapter_tokens_per_s", "multi_adapter_tokens_per_s",
        "single_adapter_latency_ms_p50", "single_adapter_latency_ms_p99", "multi_adapter_latency_ms_p50",
        "multi_adapter_latency_ms_p99", "base_latency_ms_p50", "merged_latency_ms_p50", "unmerged_latency_ms_p50",
        "alone_latency_ms_p50"};

    private ServeBench() {
    }

    public static ObjectNode run(Options o) throws Exception {
        Path tmp = Files.createTempDirectory("spark-lora-bench-serve");
        try {
            return run(o, tmp);
        } finally {
            try (var walk = Files.walk(tmp)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static ObjectNode run(Options o, Path tmp) throws Exception {
        Path modelDir = o.model();
        if (modelDir == null) {
            modelDir = tmp.resolve("base");
            Checkpoints.save(Checkpoints.random(new LlamaConfig(256, 256, 688, 4, 4, 4, 64, 256, 1e-6, 10000.0, false,
                    false, false, 0.02), 0), modelDir);
        }
        BaseModel base = Checkpoints.load(modelDir);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < o.adapters(); i++) {
            names.add("b" + i);
            RandomAdapters.write(base, tmp, "b" + i, LoraConfig.defaults().withRank(o.rank()).withAlpha(2 * o.rank()),
                    i);
        }
        int vocab = base.config().vocabSize();
        base = null; // each server loads its own
        ObjectNode out = Completions.JSON.createObjectNode();
        out.put("model", o.model() == null ? "random llama dim 256, 4 layers, 4 heads, vocab 256" : o.model().toString());
        out.put("adapters", o.adapters()).put("rank", o.rank()).put("targets", "q_proj,v_proj")
                .put("clients", o.clients()).put("requests", o.requests()).put("prompt_tokens", o.promptTokens())
                .put("max_tokens", o.maxTokens()).put("repeats", o.repeats());
        ServeOptions cachedOptions = ServeOptions.defaults().withPort(0).withMaxBatch(o.clients())
                .withQueueCapacity(o.requests());
        Path none = Files.createDirectory(tmp.resolve("no-adapters"));
        try (OpenAiServer cached = OpenAiServer.start(modelDir, new LocalAdapterStorage(tmp), cachedOptions);
             OpenAiServer merged = OpenAiServer.start(modelDir, new LocalAdapterStorage(tmp),
                     ServeOptions.defaults().withPort(0).withMerge("b0").withMaxBatch(o.clients()));
             OpenAiServer alone = OpenAiServer.start(modelDir, new LocalAdapterStorage(none),
                     ServeOptions.defaults().withPort(0).withMaxBatch(o.clients()))) {
            String cachedUrl = "http://127.0.0.1:" + cached.port() + "/v1/completions";
            String mergedUrl = "http://127.0.0.1:" + merged.port() + "/v1/completions";
            String aloneUrl = "http://127.0.0.1:" + alone.port() + "/v1/completions";
            for (String n : names) { // load every adapter once, and warm the JIT
                send(cachedUrl, body(n, vocab, o, 0));
            }
            for (int i = 0; i < 3; i++) { // and both servers' buffers
                send(cachedUrl, body(ServedModels.BASE, vocab, o, i));
                send(mergedUrl, body("b0", vocab, o, i));
                send(aloneUrl, body(ServedModels.BASE, vocab, o, i));
            }
            out.put("switch_us", switchMicros(cached.cache(), names));
            out.put("order", "per repeat: the single- and multi-adapter loads (which first alternates), then "
                    + SEQUENTIAL_CYCLES + " cycles of one request at a time to base, b0 merged, b0 unmerged, b0 merged,"
                    + " base alone, b0 merged: every request follows one to another server");
            ArrayNode runs = out.putArray("runs");
            List<Double> ratios = new ArrayList<>();
            List<Double> mergedRatios = new ArrayList<>();
            List<Double> unmergedRatios = new ArrayList<>();
            List<Double> mergedCpuRatios = new ArrayList<>(); // the same on the engines' CPU clocks
            List<Double> unmergedCpuRatios = new ArrayList<>();
            List<Double> aloneRatios = new ArrayList<>(); // merged over the base served alone
            List<Double> aloneCpuRatios = new ArrayList<>();
            List<List<Double>> figures = new ArrayList<>(); // per FIGURES entry, its value in each repeat
            for (int f = 0; f < FIGURES.length; f++) {
                figures.add(new ArrayList<>());
            }
            for (int r = 0; r < o.repeats(); r++) {
                ObjectNode run = runs.addObject();
                Load single = null;
                Load multi = null;
                for (int phase = 0; phase < 2; phase++) {
                    if ((phase + r) % 2 == 0) {
                        single = load(cachedUrl, i -> "b0", vocab, o);
                    } else {
                        multi = load(cachedUrl, i -> names.get(i % names.size()), vocab, o);
                    }
                }
                run.set("single_adapter", single.json());
                run.set("multi_adapter", multi.json());
                ratios.add(multi.tokensPerSecond / single.tokensPerSecond);
                run.put("multi_over_single", multi.tokensPerSecond / single.tokensPerSecond);
                Latencies lat = sequentialLatencies(new OpenAiServer[] {cached, merged, alone}, vocab, o);
                double[][] ms = lat.wall();
                double baseCpu = Spread.percentile(lat.cpu()[0], 50);
                double mergedCpu = Spread.percentile(lat.cpu()[1], 50);
                double unmergedCpu = Spread.percentile(lat.cpu()[2], 50);
                double aloneCpu = Spread.percentile(lat.cpu()[3], 50);
                run.put("base_cpu_ms_p50", baseCpu).put("merged_cpu_ms_p50", mergedCpu)
                        .put("unmerged_cpu_ms_p50", unmergedCpu).put("alone_cpu_ms_p50", aloneCpu);
                aloneCpuRatios.add(mergedCpu / aloneCpu);
                run.put("merged_over_alone_cpu", mergedCpu / aloneCpu);
                mergedCpuRatios.add(mergedCpu / baseCpu);
                unmergedCpuRatios.add(unmergedCpu / baseCpu);
                run.put("merged_over_base_cpu", mergedCpu / baseCpu).put("unmerged_over_base_cpu",
                        unmergedCpu / baseCpu);
                double baseMs = Spread.percentile(ms[0], 50);
                double mergedMs = Spread.percentile(ms[1], 50);
                double unmergedMs = Spread.percentile(ms[2], 50);
                double aloneMs = Spread.percentile(ms[3], 50);
                run.put("base_latency_ms_p50", baseMs).put("merged_latency_ms_p50", mergedMs)
                        .put("unmerged_latency_ms_p50", unmergedMs).put("alone_latency_ms_p50", aloneMs);
                aloneRatios.add(mergedMs / aloneMs);
                run.put("merged_over_alone", mergedMs / aloneMs);
                run.set("base_latency_ms", Spread.of(ms[0]));
                run.set("merged_latency_ms", Spread.of(ms[1]));
                run.set("unmerged_latency_ms", Spread.of(ms[2]));
                run.set("alone_latency_ms", Spread.of(ms[3]));
                mergedRatios.add(mergedMs / baseMs);
                unmergedRatios.add(unmergedMs / baseMs);
                run.put("merged_over_base", mergedMs / baseMs).put("unmerged_over_base", unmergedMs / baseMs);
                double[] values = {single.tokensPerSecond, multi.tokensPerSecond, single.p50Ms, single.p99Ms,
                        multi.p50Ms, multi.p99Ms, baseMs, mergedMs, unmergedMs, aloneMs};
                for (int f = 0; f < FIGURES.length; f++) {
                    figures.get(f).add(values[f]);
                }
            }
            out.set("multi_over_single", Spread.of(ratios));
            out.set("merged_over_base", Spread.of(mergedRatios));
            out.set("unmerged_over_base", Spread.of(unmergedRatios));
            out.set("merged_over_base_cpu", Spread.of(mergedCpuRatios));
            out.set("unmerged_over_base_cpu", Spread.of(unmergedCpuRatios));
            out.set("merged_over_alone", Spread.of(aloneRatios));
            out.set("merged_over_alone_cpu", Spread.of(aloneCpuRatios));
            ObjectNode medians = out.putObject("over_repeats"); // each figure's median (min–max) over the repeats
            for (int f = 0; f < FIGURES.length; f++) {
                medians.set(FIGURES[f], Spread.of(figures.get(f)));
            }
        }
        return out;
    }

    /** Median microseconds of an AdapterCache hit, cycling through the cached adapters. */
    private static double switchMicros(AdapterCache cache, List<String> names) throws Exception {
        int batches = 200;
        int perBatch = 1000;
        double[] us = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < perBatch; i++) {
                if (cache.get(names.get(i % names.size())) == null) {
                    throw new IllegalStateException("Cannot bench: adapter missing from the cache");
                }
            }
            us[b] = (System.nanoTime() - t0) / 1e3 / perBatch;
        }
        return Spread.percentile(us, 50);
    }

    /** One load phase's figures. */
    private record Load(double seconds, long tokens, double tokensPerSecond, double p50Ms, double p99Ms) {
        ObjectNode json() {
            return Completions.JSON.createObjectNode().put("seconds", seconds).put("completion_tokens", tokens)
                    .put("tokens_per_s", tokensPerSecond).put("latency_ms_p50", p50Ms).put("latency_ms_p99", p99Ms);
        }
    }

    /** {@code requests} greedy completions from {@code clients} threads; request i names {@code model.apply(i)}. */
    private static Load load(String url, IntFunction<String> model, int vocab, Options o) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(o.clients());
        AtomicInteger next = new AtomicInteger();
        double[] latencyMs = new double[o.requests()];
        long t0 = System.nanoTime();
        List<Future<Long>> clients = new ArrayList<>();
        for (int c = 0; c < o.clients(); c++) {
            clients.add(pool.submit(() -> {
                long tokens = 0;
                int i;
                while ((i = next.getAndIncrement()) < o.requests()) {
                    long s = System.nanoTime();
                    tokens += send(url, body(model.apply(i), vocab, o, i)).path("usage").path("completion_tokens")
                            .asLong();
                    latencyMs[i] = (System.nanoTime() - s) / 1e6;
                }
                return tokens;
            }));
        }
        long tokens = 0;
        for (Future<Long> f : clients) {
            tokens += f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        return new Load(seconds, tokens, tokens / seconds, Spread.percentile(latencyMs, 50), Spread.percentile(latencyMs, 99));
    }

    /**
     * Milliseconds of one request at a time to {@code [base on the cached server, b0 merged, b0 unmerged, base on the
     * server with no adapters]} ({@code servers}: cached, merged, alone), on the wall clock ({@code wall}) and on the
     * serving engine's CPU clock ({@code cpu}, {@link Engine#cpuNanos}), in {@link #SEQUENTIAL_CYCLES} cycles of
     * {@link #SEQUENTIAL_ORDER}: merged comes between each two others, so every request follows one to another server
     * and none has the previous request's server warm to itself.
     */
    private static Latencies sequentialLatencies(OpenAiServer[] servers, int vocab, Options o) throws Exception {
        String[] models = {ServedModels.BASE, "b0", "b0", ServedModels.BASE};
        int targets = models.length;
        double[][] wall = new double[targets][SEQUENTIAL_CYCLES * SEQUENTIAL_ORDER.length];
        double[][] cpu = new double[targets][SEQUENTIAL_CYCLES * SEQUENTIAL_ORDER.length];
        int[] n = new int[targets];
        for (int i = 0; i < SEQUENTIAL_CYCLES; i++) {
            for (int t : SEQUENTIAL_ORDER) {
                OpenAiServer server = servers[SEQUENTIAL_SERVER[t]];
                Engine engine = server.engine();
                long cpu0 = engine.cpuNanos();
                long s = System.nanoTime();
                send("http://127.0.0.1:" + server.port() + "/v1/completions", body(models[t], vocab, o, i));
                wall[t][n[t]] = (System.nanoTime() - s) / 1e6;
                while (engine.busy()) { // the response leaves from inside the iteration it ran in
                    Thread.onSpinWait();
                }
                cpu[t][n[t]++] = (engine.cpuNanos() - cpu0) / 1e6;
            }
        }
        for (int t = 0; t < targets; t++) {
            wall[t] = java.util.Arrays.copyOf(wall[t], n[t]);
            cpu[t] = java.util.Arrays.copyOf(cpu[t], n[t]);
        }
        return new Latencies(wall, cpu);
    }

    private record Latencies(double[][] wall, double[][] cpu) {
    }

    /** A greedy completion of a prompt of random token ids (seeded by {@code i}), {@code maxTokens} long. */
    private static String body(String model, int vocab, Options o, int i) {
        SplitMix64 rng = new SplitMix64(7919L * i + 1);
        StringBuilder ids = new StringBuilder();
        for (int t = 0; t < o.promptTokens(); t++) {
            ids.append(t == 0 ? "" : ",").append((int) (rng.nextDouble() * vocab));
        }
        return "{\"model\":\"" + model + "\",\"prompt\":[" + ids + "],\"max_tokens\":" + o.maxTokens()
                + ",\"temperature\":0}";
    }

    private static JsonNode send(String url, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("Cannot bench: " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return Completions.JSON.readTree(r.body());
    }
}
