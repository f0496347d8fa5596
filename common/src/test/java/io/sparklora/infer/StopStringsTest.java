package io.sparklora.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {
    @Test
    void findsTheEarliestStopAndHoldsBackAPossibleStart() {
        StopStrings s = new StopStrings(List.of("\n\n", "END"));
        assertEquals(3, s.firstMatch("abcEND x\n\n"));
        assertEquals(-1, s.firstMatch("abc\nEN"));
        assertEquals(4, s.releasable("abc\nEN".substring(0, 5))); // "abc\nE": "E" may start END
        assertEquals(3, s.releasable("abc\n")); // "\n" may start "\n\n"
        assertEquals(3, s.releasable("abc"));
        assertEquals(5, StopStrings.none().releasable("hello"));
        assertEquals("Invalid stop string: must not be empty",
                assertThrows(IllegalArgumentException.class, () -> new StopStrings(List.of(""))).getMessage());
    }
}
