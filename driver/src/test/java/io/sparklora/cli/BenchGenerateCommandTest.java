package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code bench-generate} from the command line at toy size: one JSON document whose two paths agree on every run, and
 * a base too short for the asked tokens refused with a message naming both numbers. Timings are not asserted.
 */
class BenchGenerateCommandTest {
    @Test
    void benchGeneratePrintsBothPathsFiguresAndTheirAgreement() throws Exception {
        CliTest.Run ok = CliTest.cli("bench-generate", "--model", "../models/demo-base", "--new-tokens", "20",
                "--prompt-tokens", "4", "--runs", "2", "--warmup-tokens", "2");
        assertEquals(0, ok.status(), ok.err());
        JsonNode base = new ObjectMapper().readTree(ok.out()).path("bases").get(0);
        assertEquals(2, base.path("runs_equal").asInt(), ok.out());
        assertEquals(0, base.path("runs_disagreeing").asInt(), ok.out());
        assertTrue(base.path("kv_tokens_per_s").path("median").asDouble() > 0, ok.out());
        assertTrue(base.path("speed_up").has("min") && base.has("kv_token_ms_end"), ok.out());
    }

    @Test
    void aBaseWhoseContextIsTooShortIsRefused() {
        CliTest.Run bad = CliTest.cli("bench-generate", "--model", "../models/demo-base", "--runs", "1");
        assertNotEquals(0, bad.status());
        assertTrue(bad.err().contains("Cannot bench generate on ../models/demo-base: --prompt-tokens 16 + "
                + "--new-tokens 256 exceed the model's max positions 256"), bad.err());
        assertEquals("", bad.out());
    }
}
