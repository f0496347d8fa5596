package io.sparklora.safetensors;

import static io.sparklora.safetensors.SafeTensorsBytes.concat;
import static io.sparklora.safetensors.SafeTensorsBytes.f32;
import static io.sparklora.safetensors.SafeTensorsBytes.file;
import static io.sparklora.safetensors.SafeTensorsBytes.le64;
import static io.sparklora.safetensors.SafeTensorsBytes.open;
import static io.sparklora.safetensors.SafeTensorsBytes.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-built byte buffers parse to the values the safetensors spec and IEEE 754 define. */
class SafeTensorsReaderTest {
    @TempDir
    Path tmp;

    @Test
    void f32ValuesShapeAndMetadata() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        try (SafeTensorsReader r = open(file(header, f32(1.5f, -2.25f, 0f, 3e-39f)))) {
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertEquals(List.of("w"), List.copyOf(r.names()));
            TensorInfo info = r.info("w");
            assertEquals(DType.F32, info.dtype());
            assertArrayEquals(new int[] {2, 2}, info.shape());
            Tensor t = r.read("w");
            assertArrayEquals(new int[] {2, 2}, t.shape());
            assertArrayEquals(new float[] {1.5f, -2.25f, 0f, 3e-39f}, t.toArray());
            assertNull(r.info("absent"));
        }
    }

    @Test
    void f16IncludingSubnormalsInfinitiesAndNan() throws IOException {
        int[] bits = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x3555, 0x7E00};
        float[] expected = {1f, -2f, 0x1.0p-24f, 1023 * 0x1.0p-24f, 0x1.0p-14f, 65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, 0x1.554p-2f, Float.NaN};
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}}";
        try (SafeTensorsReader r = open(file(header, u16(bits)))) {
            float[] got = r.read("h").toArray();
            for (int i = 0; i < bits.length; i++) {
                // assertEquals(float, float) compares bit patterns via Float.equals: -0 ≠ 0, NaN == NaN
                assertEquals(expected[i], got[i], 0f, "F16 0x" + Integer.toHexString(bits[i]));
                assertEquals(Float.floatToIntBits(expected[i]) >>> 31, Float.floatToIntBits(got[i]) >>> 31,
                        "sign of F16 0x" + Integer.toHexString(bits[i]));
            }
        }
    }

    @Test
    void bf16IsTheUpperHalfOfF32() throws IOException {
        int[] bits = {0x3F80, 0xC040, 0x7F80, 0x0001, 0x4049};
        float[] expected = {1f, -3f, Float.POSITIVE_INFINITY, 0x1.0p-133f, 3.140625f};
        String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[0,10]}}";
        try (SafeTensorsReader r = open(file(header, u16(bits)))) {
            assertArrayEquals(expected, r.read("b").toArray());
        }
    }

    @Test
    void f64AndIntegerTypesConvertAndReadAsLongs() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(8 + 16 + 2 + 4 + 2).order(ByteOrder.LITTLE_ENDIAN);
        d.putDouble(0.1);                 // F64 [1]      bytes [0, 8)
        d.putLong(-3).putLong(1L << 40);  // I64 [2]      bytes [8, 24)
        d.put((byte) 0xFF).put((byte) 0x80); // U8 [1] at 24, I8 [1] at 25
        d.putInt(-7);                     // I32 [1]      bytes [26, 30)
        d.put((byte) 1).put((byte) 0);    // BOOL [2]     bytes [30, 32)
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[24,25]},"
                + "\"s\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[25,26]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[26,30]},"
                + "\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[30,32]}}";
        try (SafeTensorsReader r = open(file(header, d.array()))) {
            assertArrayEquals(new float[] {(float) 0.1}, r.read("d").toArray());
            assertArrayEquals(new float[] {-3f, 0x1.0p40f}, r.read("l").toArray());
            assertArrayEquals(new long[] {-3, 1L << 40}, r.readLongs("l"));
            assertArrayEquals(new long[] {255}, r.readLongs("u"));
            assertArrayEquals(new float[] {255f}, r.read("u").toArray());
            assertEquals(0, r.read("u").rank());
            assertArrayEquals(new long[] {-128}, r.readLongs("s"));
            assertArrayEquals(new long[] {-7}, r.readLongs("i"));
            assertArrayEquals(new long[] {1, 0}, r.readLongs("m"));
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> r.readLongs("d"));
            assertEquals("Cannot read safetensors test.safetensors: tensor 'd' has dtype F64, not an integer type",
                    e.getMessage());
            e = assertThrows(SafeTensorsException.class, () -> r.read("nope"));
            assertEquals("Cannot read safetensors test.safetensors: no tensor named 'nope'", e.getMessage());
        }
    }

    @Test
    void unsignedAndSixteenBitIntegers() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(2 + 2 + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0xFFFF).putShort((short) -2).putInt(-1).putLong(-1);
        String header = "{\"__metadata__\":null,"
                + "\"u16\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                + "\"i16\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[2,4]},"
                + "\"u32\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"u64\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        try (SafeTensorsReader r = open(file(header, d.array()))) {
            assertTrue(r.metadata().isEmpty());
            assertArrayEquals(new float[] {65535f}, r.read("u16").toArray());
            assertArrayEquals(new long[] {65535}, r.readLongs("u16"));
            assertArrayEquals(new float[] {-2f}, r.read("i16").toArray());
            assertArrayEquals(new long[] {-2}, r.readLongs("i16"));
            assertArrayEquals(new float[] {4294967295f}, r.read("u32").toArray());
            assertArrayEquals(new long[] {4294967295L}, r.readLongs("u32"));
            assertArrayEquals(new float[] {0x1.0p64f}, r.read("u64").toArray()); // 2^64 - 1 rounds to 2^64
            assertArrayEquals(new long[] {-1}, r.readLongs("u64")); // documented wrap above 2^63
        }
    }

    @Test
    void float8Types() throws IOException {
        // e5m2: 0x3C = 1.0, 0x7C = +inf; e4m3fn: 0x38 = 1.0, 0x7E = 448, 0x01 = 2^-9, 0xFF = NaN
        byte[] data = {0x3C, 0x7C, 0x38, 0x7E, 0x01, (byte) 0xFF};
        String header = "{\"a\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[0,2]},"
                + "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[2,6]}}";
        try (SafeTensorsReader r = open(file(header, data))) {
            assertArrayEquals(new float[] {1f, Float.POSITIVE_INFINITY}, r.read("a").toArray());
            assertArrayEquals(new float[] {1f, 448f, 0x1.0p-9f, Float.NaN}, r.read("b").toArray());
        }
    }

    /** Spans several 16 MiB read chunks, so chunk boundaries land mid-tensor; header padded with spaces. */
    @Test
    void largeF16TensorFromFileAcrossChunks() throws IOException {
        int n = 9_000_001; // 18 MB of F16
        ByteBuffer data = ByteBuffer.allocate(2 * n + 4).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(7f);
        for (int i = 0; i < n; i++) {
            data.putShort((short) (i % 3 == 0 ? 0x3C00 : 0xC000)); // 1.0 or -2.0
        }
        String header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"big\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[4," + (4 + 2 * n) + "]}}     ";
        Path f = tmp.resolve("big.safetensors");
        Files.write(f, file(header, data.array()));
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            assertEquals(f.toString(), r.name());
            Tensor big = r.read("big");
            assertEquals(n, big.size());
            for (int i = 0; i < n; i++) {
                if (big.get(i) != (i % 3 == 0 ? 1f : -2f)) {
                    throw new AssertionError("element " + i + " is " + big.get(i));
                }
            }
            assertArrayEquals(new float[] {7f}, r.read("x").toArray());
        }
    }

    @Test
    void emptyHeaderObjectIsAnEmptyFile() throws IOException {
        try (SafeTensorsReader r = open(concat(le64(8), "{}      ".getBytes()))) {
            assertTrue(r.names().isEmpty());
            assertTrue(r.metadata().isEmpty());
        }
    }

    @Test
    void missingFileIsNamed() {
        Path f = tmp.resolve("absent.safetensors");
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensorsReader.open(f));
        assertEquals("Cannot read safetensors " + f + ": no such file", e.getMessage());
    }
}
