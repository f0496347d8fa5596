package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdapterNamesTest {
    @Test
    void plainKeysAreKeptOthersAreReducedAndHashed() {
        assertEquals("en", AdapterNames.of("en"));
        assertEquals("fr-FR_v1.2", AdapterNames.of("fr-FR_v1.2"));
        String escape = AdapterNames.of("../escape");
        assertTrue(escape.matches("escape-[0-9a-f]{8}"), escape);
        assertTrue(AdapterNames.of("/etc").matches("etc-[0-9a-f]{8}"), AdapterNames.of("/etc"));
        assertTrue(AdapterNames.of("").matches("key-[0-9a-f]{8}"), AdapterNames.of(""));
        assertTrue(AdapterNames.of(".").matches("key-[0-9a-f]{8}"), AdapterNames.of("."));
        assertTrue(AdapterNames.of("..").matches("key-[0-9a-f]{8}"), AdapterNames.of(".."));
        assertTrue(AdapterNames.of("grüße").matches("gr_e-[0-9a-f]{8}"), AdapterNames.of("grüße"));
        assertTrue(AdapterNames.of((String) null).matches("null-[0-9a-f]{8}"), AdapterNames.of((String) null));
        assertTrue(AdapterNames.of("_tmp-x").matches("tmp-x-[0-9a-f]{8}"), AdapterNames.of("_tmp-x"));
        assertNotEquals(AdapterNames.of("a/b"), AdapterNames.of("a?b")); // reduce alike, hash apart
        assertEquals(AdapterNames.of("a/b"), AdapterNames.of("a/b")); // deterministic
        assertTrue(AdapterNames.of("x".repeat(500)).length() <= 100);
    }

    @Test
    void namesOfAllKeysAreUniqueEvenAcrossCase() {
        List<String> keys = Arrays.asList("EN", "en", "../x", "..%x", "", null, "key");
        Map<String, String> names = AdapterNames.of(keys);
        assertEquals(keys.size(), new HashSet<>(names.values().stream().map(String::toLowerCase).toList()).size(),
                names.toString());
        assertEquals("EN", names.get("EN")); // the first of a case-insensitive clash keeps its name
        names.values().forEach(n -> assertTrue(n.matches("[A-Za-z0-9][A-Za-z0-9._-]*"), n));
    }
}
