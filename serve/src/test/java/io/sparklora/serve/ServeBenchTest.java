package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * bench-serve end to end on the demo base at a toy size: every request of both load phases was served in full (the
 * token counts come from the servers' usage fields) and every figure is there. Not a timing test: no figure is
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
        }
        assertTrue(r.path("switch_us").asDouble() > 0, r.toString());
        assertTrue(r.path("multi_over_single").path("min").asDouble()
                <= r.path("multi_over_single").path("max").asDouble(), r.toString());
    }

    @Test
    void refusesOptionsItCannotRun() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ServeBench.Options(null, 1, 8, 16, 64, 32, 32, 3));
        assertTrue(e.getMessage().startsWith("Invalid bench-serve options"), e.getMessage());
    }
}
