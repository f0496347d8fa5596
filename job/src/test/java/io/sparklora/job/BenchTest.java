package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        Bench.Result r = Bench.run(Bench.Preset.tiny);
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        for (String key : new String[] {"preset", "tokens_per_s", "model_gflops", "sgemm_gflops", "mfu"}) {
            assertTrue(json.has(key), key);
        }
        assertEquals("tiny", json.get("preset").asText());
        assertTrue(json.get("tokens_per_s").asDouble() > 0);
        double ratio = json.get("model_gflops").asDouble() / json.get("sgemm_gflops").asDouble();
        assertEquals(ratio, json.get("mfu").asDouble(), 0.002);
        assertEquals(8 * 128 / r.stepSeconds(), r.tokensPerSecond(), 1e-6 * r.tokensPerSecond());
    }
}
