package io.sparklora.model;

import io.sparklora.safetensors.DType;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.SafeTensorsWriter;
import io.sparklora.safetensors.ShardedSafeTensors;
import io.sparklora.safetensors.TensorInfo;
import io.sparklora.safetensors.TensorSource;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hugging Face model directories: {@code config.json} plus {@code model.safetensors} (or shards behind
 * {@code model.safetensors.index.json}), read into a {@link BaseModel} keyed by canonical keys, and written back in
 * the layout {@code from_pretrained} loads. Also fresh models initialised as transformers' {@code _init_weights} does.
 */
public final class Checkpoints {
    public static final String CONFIG = "config.json";
    public static final String SAFETENSORS = "model.safetensors";
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";

    private Checkpoints() {
    }

    /**
     * Parses {@code dir/config.json} (see {@link HfConfigReader} for defaults and refusals). Fails with an
     * IllegalArgumentException "Cannot read model config <path>: <reason>", or an UncheckedIOException when the file
     * cannot be read.
     */
    public static ModelConfig readConfig(Path dir) {
        return HfConfigReader.read(dir);
    }

    /**
     * Parses the text of a {@code config.json} read from elsewhere (a Hadoop file system, a broadcast); {@code source}
     * names it in messages. Fails with an IllegalArgumentException "Cannot read model config <source>: <reason>".
     */
    public static ModelConfig parseConfig(String json, String source) {
        return HfConfigReader.parse(json, source);
    }

    /**
     * Loads the weights of a model whose config was read separately from {@code src} (e.g. a {@code model.safetensors}
     * on a Hadoop file system), with the same checks and key mapping as {@link #load(Path)}. Does not close {@code src}.
     */
    public static BaseModel load(ModelConfig config, TensorSource src) throws IOException {
        return new BaseModel(config, readWeights(config, src));
    }

    /** What a caller builds from a model's config and its open weights ({@link #load(Path, WeightsReader)}). */
    @FunctionalInterface
    public interface WeightsReader<T> {
        T read(ModelConfig config, TensorSource src) throws IOException;
    }

    /** Loads config and weights, converting every tensor to float32 and keys to the canonical ones. */
    public static BaseModel load(Path dir) throws IOException {
        return load(dir, Checkpoints::load);
    }

    /**
     * Reads config.json and opens {@code model.safetensors} (or the shards behind the index) of {@code dir} for
     * {@code reader}, closing them afterwards.
     */
    public static <T> T load(Path dir, WeightsReader<T> reader) throws IOException {
        ModelConfig config = readConfig(dir);
        Path single = dir.resolve(SAFETENSORS);
        Path index = dir.resolve(SAFETENSORS_INDEX);
        TensorSource src;
        if (Files.exists(single)) {
            src = SafeTensorsReader.open(single);
        } else if (Files.exists(index)) {
            src = ShardedSafeTensors.open(index);
        } else {
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? "; pytorch_model.bin (a pickle) is not read, convert it to safetensors first" : "";
            throw new IOException("Cannot load model " + dir + ": it has neither " + SAFETENSORS + " nor "
                    + SAFETENSORS_INDEX + hint);
        }
        try (src) {
            return reader.read(config, src);
        }
    }

    /** Matches the source's keys to {@code config.weightShapes()}, checking names and shapes before reading. */
    static Map<String, Tensor> readWeights(ModelConfig config, TensorSource src) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : storedKeys(config, src).entrySet()) {
            weights.put(e.getKey(), src.read(e.getValue()));
        }
        return weights;
    }

    /**
     * The weights as {@link #readWeights} checks and names them, as float32 heap arrays (canonical key → row-major
     * values, shapes as {@code config.weightShapes()}), with no off-heap tensor: for the driver's broadcast copy.
     */
    public static Map<String, float[]> readHeapWeights(ModelConfig config, TensorSource src) throws IOException {
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : storedKeys(config, src).entrySet()) {
            weights.put(e.getKey(), src.readFloats(e.getValue()));
        }
        return weights;
    }

    /** Canonical key → key in the source, in {@code config.weightShapes()} order, every name and shape checked. */
    private static Map<String, String> storedKeys(ModelConfig config, TensorSource src) throws IOException {
        Map<String, int[]> expected = config.weightShapes();
        Map<String, String> storedKey = new LinkedHashMap<>(); // canonical -> key in the file
        for (String stored : src.names()) {
            String key = canonicalKey(config, stored);
            if (key == null) {
                continue;
            }
            String where = "tensor '" + stored + "'" + (key.equals(stored) ? "" : " (canonical " + key + ")");
            int[] shape = expected.get(key);
            if (shape == null) {
                throw new IOException("Cannot load model " + src.name() + ": unexpected " + where + " for a "
                        + config.modelType() + " model with this config.json");
            }
            String other = storedKey.put(key, stored);
            if (other != null) {
                throw new IOException("Cannot load model " + src.name() + ": tensors '" + other + "' and '" + stored
                        + "' are both " + key);
            }
            TensorInfo info = src.info(stored);
            if (!Arrays.equals(info.shape(), shape)) {
                throw new IOException("Cannot load model " + src.name() + ": " + where + " has shape "
                        + Arrays.toString(info.shape()) + ", config.json implies " + Arrays.toString(shape));
            }
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        for (String key : expected.keySet()) {
            String stored = storedKey.get(key);
            if (stored == null) {
                throw new IOException("Cannot load model " + src.name() + ": missing tensor '" + key + "'");
            }
            ordered.put(key, stored);
        }
        return ordered;
    }

    /** The canonical key of a stored key, or null for tensors that are not weights of the model (ignored). */
    static String canonicalKey(ModelConfig config, String stored) {
        return config.canonicalKey(stored);
    }

    /**
     * Writes {@code dir/config.json} (from {@link ModelConfig#toHfConfig()}) and {@code dir/model.safetensors} (F32,
     * metadata {"format": "pt"} as transformers writes it), creating {@code dir}; each file is replaced atomically.
     */
    public static void save(BaseModel model, Path dir) throws IOException {
        save(model, dir, DType.F32, Long.MAX_VALUE);
    }

    /**
     * Writes the checkpoint with every tensor stored as {@code dtype} (F32, BF16 or F16; config.json's torch_dtype
     * says which), in one {@code model.safetensors} when its tensors fit in {@code maxShardBytes}, else as
     * {@code model-0000i-of-0000n.safetensors} shards of at most that many tensor bytes (a larger tensor gets a shard
     * of its own) behind {@code model.safetensors.index.json} ({@code metadata.total_size}, {@code weight_map}), as
     * transformers' {@code save_pretrained(max_shard_size=…)} lays them out.
     */
    public static void save(BaseModel model, Path dir, DType dtype, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("Invalid shard size " + maxShardBytes + ": must be > 0 bytes");
        }
        Files.createDirectories(dir);
        Map<String, Object> config = new LinkedHashMap<>(model.config().toHfConfig());
        config.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("Cannot save a model as " + dtype
                    + ": only F32, BF16 and F16");
        });
        byte[] json = (StrictJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        List<Map<String, Tensor>> shards = new ArrayList<>();
        long total = 0;
        long inShard = 0;
        for (Map.Entry<String, Tensor> e : model.weights().entrySet()) {
            long bytes = (long) e.getValue().size() * dtype.byteSize();
            if (shards.isEmpty() || (inShard > 0 && inShard + bytes > maxShardBytes)) {
                shards.add(new LinkedHashMap<>());
                inShard = 0;
            }
            shards.get(shards.size() - 1).put(e.getKey(), e.getValue());
            inShard += bytes;
            total += bytes;
        }
        AtomicFiles.write(dir.resolve(CONFIG), json);
        if (shards.size() == 1) {
            SafeTensorsWriter.write(dir.resolve(SAFETENSORS), Map.of("format", "pt"), model.weights(), dtype);
            return;
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafeTensorsWriter.write(dir.resolve(file), Map.of("format", "pt"), shards.get(i), dtype);
            shards.get(i).keySet().forEach(k -> weightMap.put(k, file));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", total));
        index.put("weight_map", weightMap);
        AtomicFiles.write(dir.resolve(SAFETENSORS_INDEX), (StrictJson.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(index) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A freshly initialised model, as transformers' {@code _init_weights}: linear and embedding weights from
     * normal(0, initializer_range), biases 0, norm weights 1 (LayerNorm bias 0). GPT-2 also draws every
     * {@code c_proj.weight} with std initializer_range / sqrt(2 · n_layer) (GPT-2 paper §2.3: residual-path scaling).
     * Each tensor has its own SplitMix64 stream derived from (seed, key), so values do not depend on iteration order.
     */
    public static BaseModel random(ModelConfig config, long seed) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : config.weightShapes().entrySet()) {
            String key = e.getKey();
            Tensor t = Tensor.zeros(e.getValue());
            if (key.endsWith(".bias")) {
                // zeros
            } else if (e.getValue().length == 1) {
                t.fill(1f); // RMSNorm / LayerNorm weight
            } else {
                double std = config.initStd(key);
                SplitMix64 rng = new SplitMix64(substreamSeed(seed, key));
                for (int i = 0, n = t.size(); i < n; i++) {
                    t.set(i, (float) (std * rng.nextGaussian()));
                }
            }
            weights.put(key, t);
        }
        return new BaseModel(config, weights);
    }

    /** Mixes the seed with a 64-bit FNV-1a hash of the key, through one SplitMix64 step. */
    static long substreamSeed(long seed, String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new SplitMix64(seed ^ h).nextLong();
    }
}
