package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.tensor.Blas;
import org.junit.jupiter.api.Test;

class BenchTest {
    /** The issue's FLOP count for the tiny preset, worked by hand. */
    @Test
    void modelFlopsFollowTheIssuesCount() {
        // per block: q,k,v,o 4·256² + gate,up,down 3·256·688 = 790528; 4 blocks + head 256·256 = 3227648 parameters
        double linear = 4 * 3_227_648.0 * 8 * 128;
        double attention = 12.0 * 4 * 8 * 128 * 128 * 256;
        assertEquals(linear + attention, Bench.modelFlops(Bench.Preset.tiny.config(), 8, 128), 1.0);
    }

    /** Runs the real benchmark once (not a speed assertion: it checks the JSON line other tools parse). */
    @Test
    void tinyPresetPrintsComparableJson() throws Exception {
        Bench.Result r = Bench.run(Bench.Preset.tiny, 1);
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        for (String key : new String[] {"preset", "threads", "tokens_per_s", "model_gflops", "sgemm_gflops",
                "square_sgemm_gflops", "peak_sgemm_gflops", "mfu", "model_over_shapes_sgemm", "cpu_step_s",
                "cpu_tokens_per_s", "cpu_peak_sgemm_gflops", "cpu_mfu"}) {
            assertTrue(json.has(key), key);
        }
        assertEquals("tiny", json.get("preset").asText());
        assertEquals(1, json.get("threads").asInt());
        assertTrue(json.get("tokens_per_s").asDouble() > 0);
        double model = json.get("model_gflops").asDouble();
        double peak = json.get("peak_sgemm_gflops").asDouble();
        assertTrue(peak >= json.get("sgemm_gflops").asDouble(), "peak ≥ the model shapes' rate");
        assertTrue(peak >= json.get("square_sgemm_gflops").asDouble(), "peak ≥ the square's rate");
        assertEquals(model, json.get("mfu").asDouble() * peak, 1e-4 * peak + 0.01);
        assertEquals(model / json.get("sgemm_gflops").asDouble(), json.get("model_over_shapes_sgemm").asDouble(),
                0.002);
        assertEquals(8 * 128 / r.stepSeconds(), r.tokensPerSecond(), 1e-6 * r.tokensPerSecond());
        // The thread's CPU clock runs no faster than the wall clock per step (one BLAS thread computes in the
        // caller), but the two medians are taken separately, so one may pass the other by the clocks' jitter (1.03x
        // in one CI run): only a CPU median far above the wall one (another clock than the thread's) is a defect.
        assertTrue(r.cpuStepSeconds() > 0 && r.cpuStepSeconds() <= r.stepSeconds() * 1.5, r.toJson());
        assertEquals(8 * 128 / r.cpuStepSeconds(), json.get("cpu_tokens_per_s").asDouble(), 0.1);
    }

    @Test
    void threadsAreSetInTheLibrary() {
        try {
            Blas.setThreads(2);
            assertEquals(2, Blas.threads());
        } finally {
            Blas.setThreads(1);
        }
        assertEquals(1, Blas.threads());
        assertEquals("Cannot set BLAS threads: expected at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Blas.setThreads(0)).getMessage());
    }

    @Test
    void aPeakBelowASgemmRateIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Bench.Result(
                Bench.Preset.tiny, "1", 1, 0.1, 10_240, 30, 50, 60, 55, 0.1, 60));
        assertTrue(e.getMessage().startsWith("Cannot report bench:"), e.getMessage());
    }
}
