package io.sparklora.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.storage.ByteArraySource;
import io.sparklora.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
    @TempDir
    Path tmp;

    private static Map<String, Tensor> sample() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("z.last.first", Tensor.of(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 6}, 2, 3));
        t.put("a.scalar", Tensor.of(new float[] {42}));
        t.put("m.empty", Tensor.zeros(0, 4));
        t.put("b.vec", Tensor.of(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 2));
        return t;
    }

    @Test
    void roundTripKeepsValuesShapesOrderAndMetadata() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, Tensor> tensors = sample();
        SafeTensorsWriter.write(out, Map.of("format", "pt"), tensors);
        try (SafeTensorsReader r = SafeTensorsReader.open(new ByteArraySource("mem", out.toByteArray()))) {
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(r.names()));
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor back = r.read(e.getKey());
                assertEquals(DType.F32, r.info(e.getKey()).dtype());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertArrayEquals(e.getValue().toArray(), back.toArray(), e.getKey()); // bitwise, incl. NaN and -0
            }
        }
    }

    @Test
    void headerIsSpacePaddedToEightBytesMetadataFirstOffsetsInMapOrder() throws IOException {
        for (int pad = 0; pad < 8; pad++) {
            // names of growing length move the unpadded header length through every residue mod 8
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("x".repeat(pad + 1), Tensor.of(new float[] {1, 2}, 2));
            tensors.put("a", Tensor.of(new float[] {3}, 1));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SafeTensorsWriter.write(out, Map.of("format", "pt"), tensors);
            byte[] bytes = out.toByteArray();
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, n % 8, "header length " + n);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String json = header.stripTrailing();
            assertTrue(json.endsWith("}"), header);
            assertTrue(header.length() - json.length() < 8, "padding of at most 7 spaces");
            assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
            assertTrue(json.startsWith("{\"__metadata__\":{\"format\":\"pt\"},"), json);
            assertTrue(json.contains("\"data_offsets\":[0,8]}") && json.contains("\"data_offsets\":[8,12]}"), json);
            assertTrue(json.indexOf("\"" + "x".repeat(pad + 1) + "\"") < json.indexOf("\"a\""), json);
            assertEquals(8 + n + 12, bytes.length);
            // data is little-endian float32
            assertEquals(3f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n + 8)));
        }
    }

    @Test
    void noMetadataMeansNoMetadataEntry() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensorsWriter.write(out, null, Map.of("w", Tensor.of(new float[] {1}, 1)));
        String text = out.toString(StandardCharsets.ISO_8859_1);
        assertTrue(!text.contains("__metadata__") && text.contains("\"w\":{\"dtype\":\"F32\",\"shape\":[1]"), text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(
                new ByteArrayOutputStream(), null, Map.of("__metadata__", Tensor.zeros(1))));
        assertEquals("Cannot write safetensors: '__metadata__' is not a valid tensor name", e.getMessage());
    }

    /** A file larger than the writer's and reader's chunks, replaced atomically with no temporary file left. */
    @Test
    void writeToPathReplacesAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        int n = 5_000_003; // 20 MB: several chunks each way
        Tensor big = Tensor.zeros(n);
        for (int i = 0; i < n; i++) {
            big.set(i, i * 0.5f - 7);
        }
        Path f = tmp.resolve("model.safetensors");
        Files.writeString(f, "stale content");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("big", big);
        tensors.put("small", Tensor.of(new float[] {9}, 1));
        SafeTensorsWriter.write(f, Map.of(), tensors);
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList());
        }
        try (SafeTensorsReader r = SafeTensorsReader.open(f)) {
            assertArrayEquals(big.toArray(), r.read("big").toArray());
            assertEquals(9f, r.read("small").get(0));
        }
    }
}
