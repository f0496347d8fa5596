package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} and {@code bench-serve} from the command line: options they cannot honour fail before anything is
 * started, with a message naming the option; bench-serve prints one JSON document with every figure.
 */
class ServeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void serveRefusesBadOptionsBeforeStarting() {
        CliTest.Run size = CliTest.cli("serve", "--model", "../models/demo-base", "--adapters", tmp.toString(),
                "--cache-bytes", "12q", "--port", "0");
        assertNotEquals(0, size.status());
        assertTrue(size.err().contains("Invalid size 12q: expected bytes, or a number with a k, m or g suffix"),
                size.err());
        CliTest.Run merge = CliTest.cli("serve", "--model", "../models/demo-base", "--adapters", tmp.toString(),
                "--merge", "nope", "--port", "0");
        assertNotEquals(0, merge.status());
        assertTrue(merge.err().contains("Cannot merge adapter nope: " + tmp + " has no such adapter"), merge.err());
    }

    @Test
    void benchServePrintsItsFiguresAsJson() throws Exception {
        CliTest.Run bad = CliTest.cli("bench-serve", "--adapters", "1");
        assertNotEquals(0, bad.status());
        assertTrue(bad.err().contains("Invalid bench-serve options"), bad.err());
        CliTest.Run ok = CliTest.cli("bench-serve", "--model", "../models/demo-base", "--adapters", "2", "--clients",
                "2", "--requests", "4", "--prompt-tokens", "4", "--max-tokens", "3", "--repeats", "1");
        assertEquals(0, ok.status(), ok.err());
        JsonNode j = new ObjectMapper().readTree(ok.out());
        assertEquals(12, j.path("runs").get(0).path("multi_adapter").path("completion_tokens").asInt(), ok.out());
        assertTrue(j.has("switch_us") && j.has("multi_over_single") && j.has("merged_over_base"), ok.out());
    }
}
