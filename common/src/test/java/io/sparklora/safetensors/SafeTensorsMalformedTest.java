package io.sparklora.safetensors;

import static io.sparklora.safetensors.SafeTensorsBytes.concat;
import static io.sparklora.safetensors.SafeTensorsBytes.file;
import static io.sparklora.safetensors.SafeTensorsBytes.le64;
import static io.sparklora.safetensors.SafeTensorsBytes.open;
import static io.sparklora.safetensors.SafeTensorsBytes.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.storage.ByteArraySource;
import io.sparklora.storage.ByteSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every violation of the format is refused with its own message naming the file and the problem. */
class SafeTensorsMalformedTest {
    private static final String PREFIX = "Cannot read safetensors test.safetensors: ";

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    private static String problem(byte[] bytes) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> open(bytes).close());
        assertTrue(e.getMessage().startsWith(PREFIX), e.getMessage());
        return e.getMessage().substring(PREFIX.length());
    }

    /** Each case: the bytes and the exact problem text. */
    private static Map<String, byte[]> cases() {
        Map<String, byte[]> c = new LinkedHashMap<>();
        c.put("file is 5 bytes, too short for the 8-byte header length", new byte[5]);
        c.put("header length 1000 exceeds the file size 28 (8 + header length must fit in the file)",
                concat(le64(1000), zeros(20)));
        c.put("header length 100000001 exceeds the limit of 100000000 bytes", concat(le64(100_000_001), zeros(8)));
        c.put("header length 18446744073709551615 exceeds the limit of 100000000 bytes", concat(le64(-1), zeros(8)));
        c.put("header does not start with '{'", file(" {}", zeros(0)));
        c.put("header is not valid UTF-8", concat(le64(4), new byte[] {'{', (byte) 0xC3, '}', ' '}));
        c.put("header is not valid JSON: Unexpected character ('n' (code 110)): was expecting double-quote to start "
                + "field name", file("{not json}", zeros(0)));
        c.put("header has content after its JSON object", file("{} {}", zeros(0)));
        c.put("duplicate key in the header: Duplicate field 'a'",
                file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}", zeros(8)));
        c.put("tensor 'a' has unknown dtype 'F17'", file("{" + entry("a", "F17", "[1]", 0, 4) + "}", zeros(4)));
        c.put("__metadata__ value of 'format' must be a string, got 3",
                file("{\"__metadata__\":{\"format\":3}}", zeros(0)));
        c.put("__metadata__ must be an object of string values, got [\"pt\"]",
                file("{\"__metadata__\":[\"pt\"]}", zeros(0)));
        c.put("tensor 'a' must be an object with dtype, shape and data_offsets, got 5", file("{\"a\":5}", zeros(0)));
        c.put("tensor 'a' has shape [2,-1]: dimensions must be non-negative integers below 2^63",
                file("{" + entry("a", "F32", "[2,-1]", 0, 0) + "}", zeros(0)));
        c.put("tensor 'a' has data_offsets [8,4]: must be [begin, end] with integers 0 <= begin <= end",
                file("{" + entry("a", "F32", "[1]", 8, 4) + "}", zeros(8)));
        c.put("tensor 'a' of dtype F32 and shape [2, 3] needs 24 bytes, but data_offsets [0,20] hold 20",
                file("{" + entry("a", "F32", "[2,3]", 0, 20) + "}", zeros(20)));
        c.put("tensor 'b' at data_offsets [4, 12] overlaps tensor 'a' at [0, 8]",
                file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", zeros(12)));
        c.put("tensor 'a' has data_offsets [0, 8] past the end of the data buffer of 4 bytes",
                file("{" + entry("a", "F32", "[2]", 0, 8) + "}", zeros(4)));
        c.put("gap in the data buffer: bytes [4, 8) before tensor 'b' belong to no tensor",
                file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", zeros(12)));
        c.put("4 trailing bytes after the last tensor: the data buffer is 8 bytes, the tensors cover 4",
                file("{" + entry("a", "F32", "[1]", 0, 4) + "}", zeros(8)));
        return c;
    }

    @Test
    void eachViolationHasItsOwnMessage() {
        Set<String> seen = new HashSet<>();
        cases().forEach((expected, bytes) -> {
            assertEquals(expected, problem(bytes));
            assertTrue(seen.add(expected));
        });
    }

    /** A header length past the limit is refused after reading only the 8 length bytes, though the file is huge. */
    @Test
    void oversizedHeaderIsRefusedBeforeReadingIt() {
        long[] largestRead = {0};
        ByteArraySource inner = new ByteArraySource("huge.safetensors", concat(le64(200_000_000L), zeros(8)));
        ByteSource src = new ByteSource() {
            public String name() {
                return inner.name();
            }

            public long size() {
                return 1L << 40; // claims a terabyte, so only the 100 MB limit stops the read
            }

            public void readFully(long position, ByteBuffer dst) throws IOException {
                largestRead[0] = Math.max(largestRead[0], dst.remaining());
                inner.readFully(position, dst);
            }

            public void close() {
            }
        };
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensorsReader.open(src));
        assertEquals("Cannot read safetensors huge.safetensors: header length 200000000 exceeds the limit of "
                + "100000000 bytes", e.getMessage());
        assertEquals(8, largestRead[0]);
    }

    /**
     * Corrupting any single byte of a valid file either still gives a file whose tensors read, or fails with a
     * SafeTensorsException — never an ArrayIndexOutOfBoundsException or another runtime error.
     */
    @Test
    void singleByteCorruptionsFailCleanly() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, io.sparklora.tensor.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", io.sparklora.tensor.Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        tensors.put("b", io.sparklora.tensor.Tensor.of(new float[] {7}, 1));
        SafeTensorsWriter.write(out, Map.of("format", "pt"), tensors);
        byte[] valid = out.toByteArray();
        int[] replacements = {0, 0xFF, '[', ']', '{', '"', '-', '9', ','};
        int failures = 0;
        for (int i = 0; i < valid.length; i++) {
            for (int v : replacements) {
                byte[] bad = valid.clone();
                bad[i] = (byte) v;
                try (SafeTensorsReader r = open(bad)) {
                    for (String name : r.names()) {
                        r.read(name);
                    }
                } catch (SafeTensorsException e) {
                    assertTrue(e.getMessage().startsWith(PREFIX), e.getMessage());
                    failures++;
                }
            }
        }
        assertTrue(failures > valid.length, "most corruptions of the header must be caught, got " + failures);
        // and the uncorrupted file still reads
        try (SafeTensorsReader r = open(valid)) {
            assertEquals(6f, r.read("a").get(5));
            assertEquals(7f, r.read("b").get(0));
        }
    }
}
