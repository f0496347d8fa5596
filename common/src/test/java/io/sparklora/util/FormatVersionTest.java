package io.sparklora.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class FormatVersionTest {
    private static JsonNode json(String s) throws IOException {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void understoodVersionsPassAndOthersFailNamingTheFileAndTheVersionsRead() throws IOException {
        assertEquals(1, FormatVersion.check(json("{\"format_version\": 1}"), "out/manifest.json", 1));
        assertEquals(2, FormatVersion.check(json("{\"format_version\": 2}"), "f", 3));
        assertEquals("Cannot read out/manifest.json: format_version 2 is newer than this spark-lora knows (written by"
                + " a later version?); this spark-lora reads format_version 1", assertThrows(IOException.class,
                () -> FormatVersion.check(json("{\"format_version\": 2}"), "out/manifest.json", 1)).getMessage());
        assertEquals("Cannot read f: format_version 9 is newer than this spark-lora knows (written by a later "
                + "version?); this spark-lora reads format_version 1 to 3", assertThrows(IOException.class,
                () -> FormatVersion.check(json("{\"format_version\": 9}"), "f", 3)).getMessage());
        assertEquals("Cannot read f: it has no format_version; this spark-lora reads format_version 1",
                assertThrows(IOException.class, () -> FormatVersion.check(json("{}"), "f", 1)).getMessage());
        assertEquals("Cannot read f: format_version \"1\" is not one it understands; this spark-lora reads "
                + "format_version 1", assertThrows(IOException.class,
                () -> FormatVersion.check(json("{\"format_version\": \"1\"}"), "f", 1)).getMessage());
        assertThrows(IOException.class, () -> FormatVersion.check(json("{\"format_version\": 0}"), "f", 1));
        assertThrows(IOException.class, () -> FormatVersion.check(json("[1]"), "f", 1));
        assertThrows(IOException.class, () -> FormatVersion.check(null, "f", 1));
        assertTrue(FormatVersion.newer(json("{\"format_version\": 99999999999}"), 1));
        assertFalse(FormatVersion.newer(json("{\"format_version\": 1.5}"), 1));
        assertFalse(FormatVersion.newer(json("{\"format_version\": 1}"), 1));
    }
}
