package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * bench-serve end to end on the demo base at a toy size: every request of both load phases was served in full (the
 * token counts come from the servers' usage fields), every figure and ratio is there as median (min–max) over the
 * rounds, and the sequential order never sends two requests in a row to one server. Not a timing test: no figure is
 * compared with a threshold.
 */
class ServeBenchTest {
    @Test
    void runsBothPhasesAndTheSequentialComparisonOverHttp() throws Exception {
        JsonNode r = ServeBench.run(new ServeBench.Options(ServeFixtures.MODEL, 3, 2, 2, 6, 5, 4, 2));
        assertEquals(2, r.path("runs").size());
        for (JsonNode run : r.path("runs")) {
            for (String phase : new String[] {"single_adapter", "multi_adapter"}) {
                JsonNode p = run.path(phase);
                assertEquals(6 * 4, p.path("completion_tokens").asLong(), phase);
                assertTrue(p.path("tokens_per_s").asDouble() > 0, p.toString());
                assertTrue(p.path("latency_ms_p99").asDouble() >= p.path("latency_ms_p50").asDouble(), p.toString());
            }
            assertTrue(run.path("merged_latency_ms_p50").asDouble() > 0, run.toString());
            for (String server : new String[] {"base", "merged", "unmerged", "alone"}) { // the engine's CPU within the request
                double cpu = run.path(server + "_cpu_ms_p50").asDouble();
                assertTrue(cpu > 0 && cpu <= run.path(server + "_latency_ms_p50").asDouble() + 1, run.toString());
            }
        }
        for (String ratio : new String[] {"multi_over_single", "merged_over_base", "unmerged_over_base",
            "merged_over_base_cpu", "unmerged_over_base_cpu", "merged_over_alone", "merged_over_alone_cpu"}) {
            assertOrdered(r.path(ratio), ratio);
        }
        JsonNode over = r.path("over_repeats");
        for (String f : new String[] {"single_adapter_tokens_per_s", "multi_adapter_tokens_per_s",
            "single_adapter_latency_ms_p50", "single_adapter_latency_ms_p99", "multi_adapter_latency_ms_p50",
            "multi_adapter_latency_ms_p99", "base_latency_ms_p50", "merged_latency_ms_p50", "unmerged_latency_ms_p50",
            "alone_latency_ms_p50"}) {
            assertOrdered(over.path(f), f);
            assertTrue(over.path(f).path("min").asDouble() > 0, f + ": " + over);
        }
        // the per-round figures are what the summaries summarise
        double lowest = Double.MAX_VALUE;
        for (JsonNode run : r.path("runs")) {
            lowest = Math.min(lowest, run.path("merged_latency_ms_p50").asDouble());
            assertOrdered(run.path("merged_latency_ms"), "merged_latency_ms");
            assertEquals(run.path("merged_latency_ms_p50").asDouble(), run.path("merged_latency_ms").path("median")
                    .asDouble());
        }
        assertEquals(lowest, over.path("merged_latency_ms_p50").path("min").asDouble());
        assertTrue(r.path("switch_us").asDouble() > 0, r.toString());
        assertTrue(r.path("multi_over_single").path("min").asDouble()
                <= r.path("multi_over_single").path("max").asDouble(), r.toString());
    }

    private static void assertOrdered(JsonNode spread, String what) {
        double min = spread.path("min").asDouble(Double.NaN);
        double median = spread.path("median").asDouble(Double.NaN);
        double max = spread.path("max").asDouble(Double.NaN);
        assertTrue(min <= median && median <= max, what + ": " + spread);
    }

    /**
     * No request of the sequential comparison follows one to the same server (base and unmerged share one), and the
     * base served alone has a server of its own.
     */
    @Test
    void everySequentialRequestFollowsOneToAnotherServer() {
        int[] server = ServeBench.SEQUENTIAL_SERVER;
        assertEquals(server[0], server[2], "base and b0 unmerged are on the cached server");
        assertTrue(server[1] != server[0] && server[3] != server[0] && server[3] != server[1]);
        int[] o = ServeBench.SEQUENTIAL_ORDER;
        int[] seen = new int[4];
        for (int i = 0; i < 2 * o.length; i++) {
            int t = o[i % o.length];
            int before = o[(i + o.length - 1) % o.length];
            assertTrue(server[t] != server[before], "request " + i + " follows one to the same server");
            seen[t]++;
        }
        assertTrue(seen[0] > 0 && seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
    }

    @Test
    void refusesOptionsItCannotRun() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ServeBench.Options(null, 1, 8, 16, 64, 32, 32, 3));
        assertTrue(e.getMessage().startsWith("Invalid bench-serve options"), e.getMessage());
    }
}
