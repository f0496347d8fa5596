package io.sparklora.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A file written by the reference implementation (safetensors 0.8.0, {@code make_reference.py} beside it), which
 * orders data by alignment, not by name, and places a zero-length tensor at the same offset as the next one.
 */
class SafeTensorsReferenceFileTest {
    @Test
    void readsTheReferenceImplementationsFile() throws IOException, URISyntaxException {
        Path file = Path.of(getClass().getResource("/safetensors/reference.safetensors").toURI());
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            assertEquals(Map.of("format", "np", "source", "safetensors 0.8.0"), r.metadata());
            assertEquals(Set.of("f32", "f16", "f64", "i64", "i32", "u8", "i8", "mask", "scalar", "empty"), r.names());
            assertArrayEquals(new int[] {2, 3}, r.info("f32").shape());
            assertArrayEquals(new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}, r.read("f32").toArray());
            assertArrayEquals(new float[] {1f, -2f, 0x1.0p-24f, 65504f, Float.POSITIVE_INFINITY, -0f},
                    r.read("f16").toArray());
            assertArrayEquals(new float[] {(float) 0.1, Float.NEGATIVE_INFINITY}, r.read("f64").toArray());
            assertArrayEquals(new long[] {-3, 1L << 40}, r.readLongs("i64"));
            assertArrayEquals(new int[] {2, 1}, r.read("i64").shape());
            assertArrayEquals(new long[] {-7, 7}, r.readLongs("i32"));
            assertArrayEquals(new float[] {0f, 255f}, r.read("u8").toArray());
            assertArrayEquals(new long[] {-128, 127}, r.readLongs("i8"));
            assertEquals(DType.BOOL, r.info("mask").dtype());
            assertArrayEquals(new long[] {1, 0, 1}, r.readLongs("mask"));
            assertArrayEquals(new int[0], r.info("scalar").shape());
            assertArrayEquals(new float[] {3.25f}, r.read("scalar").toArray());
            assertArrayEquals(new int[] {0, 4}, r.read("empty").shape());
        }
    }
}
