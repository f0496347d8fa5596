package io.sparklora.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafeTensorsTest {
    @TempDir
    Path dir;
    Path index;

    @BeforeEach
    void twoShards() throws IOException {
        Map<String, Tensor> one = new LinkedHashMap<>();
        one.put("a", Tensor.of(new float[] {1, 2}, 2));
        one.put("b", Tensor.of(new float[] {3}, 1));
        Map<String, Tensor> two = new LinkedHashMap<>();
        two.put("c", Tensor.of(new float[] {4, 5, 6, 7}, 2, 2));
        SafeTensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of("format", "pt"), one);
        SafeTensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of("format", "pt"), two);
        index = dir.resolve("model.safetensors.index.json");
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\","
                + "\"b\":\"model-00001-of-00002.safetensors\"}");
    }

    private void writeIndex(String weightMap) throws IOException {
        Files.writeString(index, "{\"metadata\":{\"total_size\":28},\"weight_map\":" + weightMap + "}");
    }

    private String problem() {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.open(index));
        String prefix = "Cannot read safetensors " + index + ": ";
        assertEquals(prefix, e.getMessage().substring(0, prefix.length()));
        return e.getMessage().substring(prefix.length());
    }

    @Test
    void roundTripThroughTheIndex() throws IOException {
        try (ShardedSafeTensors s = ShardedSafeTensors.open(index)) {
            assertEquals(List.of("a", "c", "b"), List.copyOf(s.names()));
            assertEquals(Map.of("total_size", "28"), s.metadata());
            assertArrayEquals(new float[] {1, 2}, s.read("a").toArray());
            assertArrayEquals(new float[] {3}, s.read("b").toArray());
            assertArrayEquals(new float[] {4, 5, 6, 7}, s.read("c").toArray());
            assertArrayEquals(new int[] {2, 2}, s.info("c").shape());
            assertEquals(dir.resolve("model-00002-of-00002.safetensors").toString(), s.shardName("c"));
            assertNull(s.info("d"));
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> s.read("d"));
            assertEquals("Cannot read safetensors " + index + ": no tensor named 'd' in the weight_map",
                    e.getMessage());
        }
    }

    @Test
    void missingShard() throws IOException {
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00003-of-00003.safetensors\"}");
        assertEquals("shard model-00003-of-00003.safetensors named for 'c' does not exist in " + dir, problem());
    }

    @Test
    void keyInTheWrongShard() throws IOException {
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}");
        assertEquals("tensor 'c' is not in shard model-00001-of-00002.safetensors where the weight_map puts it",
                problem());
    }

    @Test
    void tensorTheWeightMapDoesNotList() throws IOException {
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}");
        assertEquals("shard model-00001-of-00002.safetensors holds tensor 'b', which the weight_map does not list",
                problem());
    }

    @Test
    void shardNamesMustStayInTheDirectory() throws IOException {
        writeIndex("{\"a\":\"../model-00001-of-00002.safetensors\"}");
        assertEquals("weight_map entry for 'a' must be a file name in the index's directory, got "
                + "\"../model-00001-of-00002.safetensors\"", problem());
    }

    @Test
    void malformedIndex() throws IOException {
        Files.writeString(index, "{\"metadata\":{}}");
        assertEquals("index has no weight_map object", problem());
        Files.writeString(index, "{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}");
        assertEquals("index is not valid JSON: Duplicate field 'a'", problem());
        Files.delete(index);
        assertEquals("no such file", problem());
    }
}
