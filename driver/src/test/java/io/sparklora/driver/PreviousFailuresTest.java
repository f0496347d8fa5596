package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deterministic failures a re-run reads from the output's manifest.json: the failed entries at their fingerprint;
 * a manifest it cannot read (corrupt, no format_version) is refused naming the file, not passed over.
 */
class PreviousFailuresTest {
    private static Map<String, Manifest.PreviousFailure> read(Path out) throws IOException {
        return Manifest.previousFailures(FileSystem.getLocal(new Configuration()), out.toUri().toString());
    }

    @Test
    void theDeterministicFailuresOfAManifestAreReadByName(@TempDir Path out) throws IOException {
        assertEquals(Map.of(), read(out), "no manifest: nothing failed before");
        Files.writeString(out.resolve("manifest.json"), "{\"format_version\": 1, \"adapters\": ["
                + "{\"name\": \"a\", \"path\": null, \"status\": \"failed\", \"reason\": \"NaN\", \"failure\": "
                + "\"deterministic\", \"fingerprint\": {\"combined\": \"f1\"}},"
                + "{\"name\": \"b\", \"path\": null, \"status\": \"failed\", \"reason\": \"lost\", \"failure\": "
                + "\"transient\", \"fingerprint\": {\"combined\": \"f2\"}},"
                + "{\"name\": \"c\", \"path\": \"adapters/c\", \"status\": \"trained\", \"reason\": \"new\"}]}");
        assertEquals(Map.of("a", new Manifest.PreviousFailure("f1", "NaN")), read(out));
    }

    @Test
    void aCorruptManifestIsRefusedNamingTheFile(@TempDir Path out) throws IOException {
        String file = new org.apache.hadoop.fs.Path(out.resolve("manifest.json").toUri()).toString();
        Files.writeString(out.resolve("manifest.json"), "{\"format_version\": 1, \"adapters\": [{\"name\": ");
        IOException e = assertThrows(IOException.class, () -> read(out));
        assertEquals(true, e.getMessage().startsWith("Cannot read " + file + ": not valid JSON (")
                && e.getMessage().endsWith("; train into another --out, or move it away (the adapters are then "
                + "decided from their own directories)"), e.getMessage());
        Files.writeString(out.resolve("manifest.json"), "{\"adapters\": []}");
        e = assertThrows(IOException.class, () -> read(out));
        assertEquals("Cannot read " + file + ": it has no format_version; this spark-lora reads format_version 1; "
                + "train into another --out, or move it away (the adapters are then decided from their own "
                + "directories)", e.getMessage());
    }
}
