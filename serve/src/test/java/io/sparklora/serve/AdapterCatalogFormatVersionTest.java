package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** serve refuses a manifest.json of a later spark-lora, or without a format_version, instead of guessing at it. */
class AdapterCatalogFormatVersionTest {
    @Test
    void aManifestOfAHigherFormatVersionIsRefusedNamingTheFile(@TempDir Path out) throws IOException {
        Files.writeString(out.resolve("manifest.json"), "{\"format_version\": 2, \"adapters\": []}");
        LocalAdapterStorage storage = new LocalAdapterStorage(out);
        IOException e = assertThrows(IOException.class, () -> new AdapterCatalog(storage));
        assertEquals(io.sparklora.util.FormatVersion.refusal(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"format_version\": 2}"), storage.name() + "/manifest.json", 1), e.getMessage());
        assertEquals(true, e.getMessage().contains("format_version 2") && e.getMessage().contains("reads "
                + "format_version 1") && e.getMessage().contains("manifest.json"), e.getMessage());
        Files.writeString(out.resolve("manifest.json"), "{\"format_version\": 1, \"adapters\": []}");
        assertEquals(0, new AdapterCatalog(storage).adapters().size());
    }

    @Test
    void aManifestWithoutFormatVersionIsRefusedNamingTheFileAndWhatWasExpected(@TempDir Path out) throws IOException {
        Files.writeString(out.resolve("manifest.json"), "{\"adapters\": [{\"name\": \"a\", \"path\": "
                + "\"adapters/a\", \"status\": \"trained\"}]}");
        LocalAdapterStorage storage = new LocalAdapterStorage(out);
        IOException e = assertThrows(IOException.class, () -> new AdapterCatalog(storage));
        assertEquals("Cannot read " + storage.name() + "/manifest.json: it has no format_version; this spark-lora "
                + "reads format_version 1", e.getMessage());
    }
}
