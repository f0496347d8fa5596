package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** manifest.json and training.json of a later spark-lora (a higher format_version) are refused naming the file. */
class FormatVersionReadTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aManifestOfAHigherFormatVersionIsRefusedNamingTheFileAndTheVersionRead() throws IOException {
        assertEquals(1, Manifest.parse(bytes("{\"format_version\": 1, \"adapters\": []}"), "m").formatVersion());
        IOException e = assertThrows(IOException.class, () -> Manifest.parse(bytes("{\"format_version\": 2, "
                + "\"adapters\": []}"), "hdfs://nn/out/manifest.json"));
        assertEquals("Cannot read hdfs://nn/out/manifest.json: format_version 2 is newer than this spark-lora knows "
                + "(written by a later version?); this spark-lora reads format_version 1", e.getMessage());
    }

    @Test
    void aTrainingJsonOfAHigherFormatVersionIsRefusedNamingTheFileAndTheVersionRead() throws IOException {
        assertEquals(1, TrainingRecord.read(bytes("{\"format_version\": 1}"), "t").formatVersion());
        IOException e = assertThrows(IOException.class, () -> TrainingRecord.read(bytes("{\"format_version\": 3}"),
                "file:/out/adapters/en/training.json"));
        assertEquals("Cannot read file:/out/adapters/en/training.json: format_version 3 is newer than this spark-lora"
                + " knows (written by a later version?); this spark-lora reads format_version 1", e.getMessage());
    }
}
