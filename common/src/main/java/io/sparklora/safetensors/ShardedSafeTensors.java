package io.sparklora.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint split over several safetensors files by a Hugging Face index ({@code model.safetensors.index.json}):
 * <pre>{"metadata": {"total_size": 123}, "weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors", …}}</pre>
 * {@link #open} opens every shard the weight map names and checks that each key lives in the shard the map names and
 * that no shard holds a tensor the map does not list.
 */
public final class ShardedSafeTensors implements TensorSource {
    private static final ObjectMapper JSON = StrictJson.MAPPER;

    private final String name;
    private final Map<String, String> metadata;
    private final Map<String, SafeTensorsReader> shardOf; // tensor name -> its shard, in weight_map order
    private final Map<String, SafeTensorsReader> shards; // file name -> reader

    private ShardedSafeTensors(String name, Map<String, String> metadata, Map<String, SafeTensorsReader> shardOf,
                               Map<String, SafeTensorsReader> shards) {
        this.name = name;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.shardOf = Collections.unmodifiableMap(shardOf);
        this.shards = shards;
    }

    /** Opens the shards of a local {@code model.safetensors.index.json}, each from the index's directory. */
    public static ShardedSafeTensors open(Path indexJson) throws IOException {
        String index = indexJson.toString();
        JsonNode root;
        try {
            root = JSON.readTree(indexJson.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new SafeTensorsException(index, "no such file", e);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(index, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        Path dir = indexJson.toAbsolutePath().getParent();
        return open(index, root, file -> {
            Path shardPath = dir.resolve(file);
            return Files.isRegularFile(shardPath) ? SafeTensorsReader.open(shardPath) : null;
        });
    }

    /** Opens one shard by its file name in the index's directory; null when there is no such file. */
    public interface ShardOpener {
        SafeTensorsReader open(String fileName) throws IOException;
    }

    /**
     * Opens the shards of an index read elsewhere (a Hadoop file system): {@code indexText} is its JSON, {@code index}
     * names it in messages, {@code opener} opens a shard beside it.
     */
    public static ShardedSafeTensors open(String index, String indexText, ShardOpener opener) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(indexText);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(index, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        return open(index, root, opener);
    }

    private static ShardedSafeTensors open(String index, JsonNode root, ShardOpener opener) throws IOException {
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(index, "index must be a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new SafeTensorsException(index, "metadata must be an object, got " + meta);
            }
            // HF writes {"total_size": <number>}: keep scalars as their text
            for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                metadata.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafeTensorsException(index, "index has no weight_map object");
        }
        Map<String, SafeTensorsReader> shards = new LinkedHashMap<>();
        Map<String, SafeTensorsReader> shardOf = new LinkedHashMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String file = e.getValue().isTextual() ? e.getValue().textValue() : null;
                if (file == null || file.isEmpty() || file.contains("/") || file.contains("\\")
                        || file.equals("..") || file.equals(".")) {
                    throw new SafeTensorsException(index, "weight_map entry for '" + e.getKey()
                            + "' must be a file name in the index's directory, got " + e.getValue());
                }
                SafeTensorsReader shard = shards.get(file);
                if (shard == null) {
                    shard = opener.open(file);
                    if (shard == null) {
                        throw new SafeTensorsException(index, "shard " + file + " named for '" + e.getKey()
                                + "' does not exist in " + index.substring(0, Math.max(0, index.lastIndexOf('/'))));
                    }
                    shards.put(file, shard);
                }
                if (shard.info(e.getKey()) == null) {
                    throw new SafeTensorsException(index, "tensor '" + e.getKey() + "' is not in shard " + file
                            + " where the weight_map puts it");
                }
                shardOf.put(e.getKey(), shard);
            }
            for (Map.Entry<String, SafeTensorsReader> s : shards.entrySet()) {
                for (String t : s.getValue().names()) {
                    if (shardOf.get(t) != s.getValue()) {
                        throw new SafeTensorsException(index, "shard " + s.getKey() + " holds tensor '" + t
                                + "', which the weight_map " + (shardOf.containsKey(t) ? "puts in another shard"
                                : "does not list"));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            for (SafeTensorsReader r : shards.values()) {
                try {
                    r.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return new ShardedSafeTensors(index, metadata, shardOf, shards);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return shardOf.keySet();
    }

    @Override
    public TensorInfo info(String tensor) {
        SafeTensorsReader shard = shardOf.get(tensor);
        return shard == null ? null : shard.info(tensor);
    }

    /** The shard file that holds {@code tensor}, or null. */
    public String shardName(String tensor) {
        SafeTensorsReader shard = shardOf.get(tensor);
        return shard == null ? null : shard.name();
    }

    @Override
    public Tensor read(String tensor) throws IOException {
        return shard(tensor).read(tensor);
    }

    @Override
    public float[] readFloats(String tensor) throws IOException {
        return shard(tensor).readFloats(tensor);
    }

    @Override
    public long[] readLongs(String tensor) throws IOException {
        return shard(tensor).readLongs(tensor);
    }

    private SafeTensorsReader shard(String tensor) throws SafeTensorsException {
        SafeTensorsReader shard = shardOf.get(tensor);
        if (shard == null) {
            throw new SafeTensorsException(name, "no tensor named '" + tensor + "' in the weight_map");
        }
        return shard;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsReader r : shards.values()) {
            try {
                r.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
