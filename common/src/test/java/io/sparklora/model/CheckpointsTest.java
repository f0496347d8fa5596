package io.sparklora.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.SafeTensorsWriter;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    @TempDir
    Path tmp;

    static LlamaConfig llama(boolean tied) {
        return new LlamaConfig(11, 8, 12, 2, 2, 1, 4, 16, 1e-6, 10000.0, true, false, tied, 0.02);
    }

    static final Gpt2Config GPT2 = new Gpt2Config(13, 8, 2, 2, 10, 20, 1e-5, 0.02);

    private static void assertSameWeights(BaseModel expected, BaseModel actual) {
        assertEquals(expected.config(), actual.config());
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        expected.weights().forEach((k, v) -> {
            assertArrayEquals(v.shape(), actual.weight(k).shape(), k);
            assertArrayEquals(v.toArray(), actual.weight(k).toArray(), k);
        });
    }

    private Path saveConfigOnly(ModelConfig c, String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), StrictJson.MAPPER.writeValueAsString(c.toHfConfig()));
        return dir;
    }

    private String loadProblem(Path dir) {
        IOException e = assertThrows(IOException.class, () -> Checkpoints.load(dir));
        String prefix = "Cannot load model " + dir.resolve("model.safetensors") + ": ";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        return e.getMessage().substring(prefix.length());
    }

    /**
     * BF16 and F16 checkpoints in shards: the index lists every tensor once with total_size in stored bytes, each
     * shard holds at most the limit (or one larger tensor), torch_dtype says the dtype, and loading gives the float32
     * values rounded to that dtype (bf16: the upper 16 bits after round-to-nearest-even).
     */
    @Test
    void halfPrecisionShardedSaveLoads() throws IOException {
        LlamaConfig qwen3 = new LlamaConfig(LlamaFamily.QWEN3, 64, 16, 24, 2, 4, 2, 8, 32, 1e-6, 1e6, false, false,
                false, 0.02, RopeScaling.NONE, 0);
        BaseModel model = Checkpoints.random(qwen3, 5);
        for (io.sparklora.safetensors.DType dtype : new io.sparklora.safetensors.DType[] {
                io.sparklora.safetensors.DType.BF16, io.sparklora.safetensors.DType.F16}) {
            Path dir = tmp.resolve("sharded-" + dtype);
            long limit = 2 * 64 * 16; // exactly the embedding at 2 bytes per value
            Checkpoints.save(model, dir, dtype, limit);
            assertFalse(Files.exists(dir.resolve("model.safetensors")));
            var index = StrictJson.MAPPER.readTree(dir.resolve("model.safetensors.index.json").toFile());
            long total = model.weights().values().stream().mapToLong(t -> 2L * t.size()).sum();
            assertEquals(total, index.get("metadata").get("total_size").asLong());
            assertEquals(model.weights().keySet(), new java.util.TreeSet<>(
                    StrictJson.MAPPER.convertValue(index.get("weight_map"), Map.class).keySet()).stream()
                    .collect(java.util.stream.Collectors.toSet()));
            java.util.Set<String> files = new java.util.TreeSet<>();
            index.get("weight_map").forEach(f -> files.add(f.asText()));
            assertTrue(files.size() > 2, "several shards: " + files);
            for (String f : files) {
                assertTrue(f.matches("model-\\d{5}-of-\\d{5}\\.safetensors") && f.endsWith("-of-"
                        + String.format("%05d", files.size()) + ".safetensors"), f);
                try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve(f))) {
                    long bytes = 0;
                    for (String name : r.names()) {
                        assertEquals(dtype, r.info(name).dtype(), name);
                        bytes += 2L * r.info(name).numel();
                    }
                    assertTrue(bytes <= limit, f + " holds " + bytes + " bytes");
                }
            }
            assertEquals(dtype == io.sparklora.safetensors.DType.BF16 ? "bfloat16" : "float16",
                    StrictJson.MAPPER.readTree(dir.resolve("config.json").toFile()).get("torch_dtype").asText());
            BaseModel back = Checkpoints.load(dir);
            assertEquals(qwen3, back.config());
            float[] orig = model.weight("model.layers.1.self_attn.k_norm.weight").toArray();
            float[] w = model.weight("model.layers.0.mlp.up_proj.weight").toArray();
            float[] got = back.weight("model.layers.0.mlp.up_proj.weight").toArray();
            for (int i = 0; i < w.length; i++) {
                float want = dtype == io.sparklora.safetensors.DType.BF16
                        ? Float.intBitsToFloat((Float.floatToRawIntBits(w[i])
                                + 0x7fff + ((Float.floatToRawIntBits(w[i]) >>> 16) & 1)) & 0xffff0000)
                        : w[i];
                assertEquals(want, got[i], dtype == io.sparklora.safetensors.DType.BF16 ? 0f : Math.abs(w[i]) / 1024,
                        "element " + i);
            }
            assertArrayEquals(orig, back.weight("model.layers.1.self_attn.k_norm.weight").toArray(), "1.0 is exact");
        }
    }

    @Test
    void saveLoadRoundTripBothFamilies() throws IOException {
        for (ModelConfig c : new ModelConfig[] {llama(false), llama(true), GPT2}) {
            BaseModel m = Checkpoints.random(c, 7);
            Path dir = tmp.resolve("out-" + c.modelType() + c.hashCode()).resolve("nested");
            Checkpoints.save(m, dir);
            assertSameWeights(m, Checkpoints.load(dir));
            String json = Files.readString(dir.resolve("config.json"));
            assertTrue(json.contains("\n  \"model_type\" : \"" + c.modelType() + "\""), json);
            try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("model.safetensors"))) {
                assertEquals(Map.of("format", "pt"), r.metadata());
                assertEquals(c.weightShapes().keySet(), r.names());
            }
        }
    }

    @Test
    void tiedLlamaHasNoHeadAndIgnoresAStoredCopyAndRotaryBuffers() throws IOException {
        BaseModel m = Checkpoints.random(llama(true), 3);
        assertFalse(m.weights().containsKey("lm_head.weight"));
        assertSame(m.weight("model.embed_tokens.weight"), m.lmHead());
        Path dir = saveConfigOnly(m.config(), "tied");
        Map<String, Tensor> stored = new LinkedHashMap<>(m.weights());
        stored.put("lm_head.weight", Tensor.zeros(11, 8)); // a stale copy: ignored, the head is embed_tokens
        stored.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.zeros(2));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), null, stored);
        BaseModel back = Checkpoints.load(dir);
        assertSameWeights(m, back);
        assertArrayEquals(m.weight("model.embed_tokens.weight").toArray(), back.lmHead().toArray());
    }

    @Test
    void untiedLlamaNeedsItsHead() throws IOException {
        BaseModel m = Checkpoints.random(llama(false), 3);
        assertNotEquals(m.weight("lm_head.weight").get(0), m.weight("model.embed_tokens.weight").get(0));
        Path dir = saveConfigOnly(m.config(), "untied");
        Map<String, Tensor> stored = new LinkedHashMap<>(m.weights());
        stored.remove("lm_head.weight");
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), null, stored);
        assertEquals("missing tensor 'lm_head.weight'", loadProblem(dir));
    }

    /** GPT2Model checkpoints store "h.0.…", GPT2LMHeadModel "transformer.h.0.…"; old ones add mask buffers. */
    @Test
    void gpt2WithAndWithoutTransformerPrefixLoadIdentically() throws IOException {
        BaseModel m = Checkpoints.random(GPT2, 5);
        Path prefixed = tmp.resolve("prefixed");
        Checkpoints.save(m, prefixed);
        Path bare = saveConfigOnly(GPT2, "bare");
        Map<String, Tensor> stored = new LinkedHashMap<>();
        m.weights().forEach((k, v) -> stored.put(k.substring("transformer.".length()), v));
        stored.put("h.0.attn.bias", Tensor.zeros(1, 1, 10, 10));
        stored.put("h.1.attn.masked_bias", Tensor.of(new float[] {-1e4f}));
        stored.put("lm_head.weight", m.weight("transformer.wte.weight"));
        SafeTensorsWriter.write(bare.resolve("model.safetensors"), null, stored);
        assertFalse(stored.containsKey("transformer.wte.weight"));
        BaseModel a = Checkpoints.load(prefixed);
        BaseModel b = Checkpoints.load(bare);
        assertSameWeights(m, a);
        assertSameWeights(a, b);
    }

    @Test
    void gpt2KeyStoredTwiceUnderBothNames() throws IOException {
        BaseModel m = Checkpoints.random(GPT2, 5);
        Path dir = saveConfigOnly(GPT2, "twice");
        Map<String, Tensor> stored = new LinkedHashMap<>(m.weights());
        stored.put("wte.weight", m.weight("transformer.wte.weight"));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), null, stored);
        assertEquals("tensors 'transformer.wte.weight' and 'wte.weight' are both transformer.wte.weight",
                loadProblem(dir));
    }

    @Test
    void unexpectedKeyAndWrongShapeAreNamed() throws IOException {
        BaseModel m = Checkpoints.random(llama(false), 1);
        Path dir = saveConfigOnly(m.config(), "bad");
        Map<String, Tensor> stored = new LinkedHashMap<>(m.weights());
        stored.put("model.layers.0.mlp.extra.weight", Tensor.zeros(2));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), null, stored);
        assertEquals("unexpected tensor 'model.layers.0.mlp.extra.weight' for a llama model with this config.json",
                loadProblem(dir));
        stored.remove("model.layers.0.mlp.extra.weight");
        stored.put("model.norm.weight", Tensor.zeros(3));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), null, stored);
        assertEquals("tensor 'model.norm.weight' has shape [3], config.json implies [8]", loadProblem(dir));

        Path g = saveConfigOnly(GPT2, "badgpt2");
        Map<String, Tensor> gs = new LinkedHashMap<>();
        Checkpoints.random(GPT2, 1).weights().forEach((k, v) -> gs.put(k.substring("transformer.".length()), v));
        gs.put("ln_f.bias", Tensor.zeros(9));
        SafeTensorsWriter.write(g.resolve("model.safetensors"), null, gs);
        assertEquals("tensor 'ln_f.bias' (canonical transformer.ln_f.bias) has shape [9], config.json implies [8]",
                loadProblem(g));
    }

    @Test
    void directoryWithoutSafetensors() throws IOException {
        Path dir = saveConfigOnly(GPT2, "pickle");
        IOException e = assertThrows(IOException.class, () -> Checkpoints.load(dir));
        assertEquals("Cannot load model " + dir + ": it has neither model.safetensors nor model.safetensors.index.json",
                e.getMessage());
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        e = assertThrows(IOException.class, () -> Checkpoints.load(dir));
        assertEquals("Cannot load model " + dir + ": it has neither model.safetensors nor model.safetensors.index.json"
                + "; pytorch_model.bin (a pickle) is not read, convert it to safetensors first", e.getMessage());
    }

    @Test
    void shardedCheckpointLoads() throws IOException {
        BaseModel m = Checkpoints.random(llama(false), 9);
        Path dir = saveConfigOnly(m.config(), "sharded");
        Map<String, Tensor> first = new LinkedHashMap<>();
        Map<String, Tensor> second = new LinkedHashMap<>();
        ObjectNode index = StrictJson.MAPPER.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode weightMap = index.putObject("weight_map");
        m.weights().forEach((k, v) -> {
            boolean one = k.startsWith("model.layers.0.") || k.startsWith("model.embed");
            (one ? first : second).put(k, v);
            weightMap.put(k, one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        });
        SafeTensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), null, first);
        SafeTensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), null, second);
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
        assertSameWeights(m, Checkpoints.load(dir));
    }

    /** A checkpoint stored in half precision (as most on the Hub are) loads converted to float32, exactly. */
    @Test
    void f16AndBf16StoredCheckpointLoadsConverted() throws IOException {
        LlamaConfig c = llama(false);
        BaseModel m = Checkpoints.random(c, 11);
        Map<String, String> dtypes = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Tensor> e : m.weights().entrySet()) {
            String dtype = new String[] {"F16", "BF16", "F32"}[i++ % 3];
            dtypes.put(e.getKey(), dtype);
            Tensor t = e.getValue();
            for (int j = 0; j < t.size(); j++) {
                float v = t.get(j);
                if (dtype.equals("BF16")) {
                    v = Float.intBitsToFloat(Float.floatToIntBits(v) & 0xFFFF0000); // representable in BF16
                } else if (dtype.equals("F16")) {
                    v = ((j * 37 % 129) - 64) / 64f; // k/64 with |k| <= 64: exact in F16
                }
                t.set(j, v);
            }
        }
        Path dir = saveConfigOnly(c, "half");
        writeMixed(dir.resolve("model.safetensors"), m.weights(), dtypes);
        try (SafeTensorsReader r = SafeTensorsReader.open(dir.resolve("model.safetensors"))) {
            assertEquals("F16", r.info("model.embed_tokens.weight").dtype().name());
            assertEquals("BF16", r.info("model.layers.0.input_layernorm.weight").dtype().name());
        }
        assertSameWeights(m, Checkpoints.load(dir));
    }

    /** Writes each tensor in its given dtype; values must be exactly representable there. */
    private static void writeMixed(Path file, Map<String, Tensor> tensors, Map<String, String> dtypes)
            throws IOException {
        ObjectNode header = StrictJson.MAPPER.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            int bytes = dtypes.get(e.getKey()).equals("F32") ? 4 : 2;
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", dtypes.get(e.getKey()));
            int[] shape = e.getValue().shape();
            for (int d : shape) {
                n.withArray("shape").add(d);
            }
            if (shape.length == 0) {
                n.putArray("shape");
            }
            long end = offset + (long) bytes * e.getValue().size();
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate((int) (8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String dtype = dtypes.get(e.getKey());
            for (float v : e.getValue().toArray()) {
                switch (dtype) {
                    case "F32" -> out.putFloat(v);
                    case "BF16" -> out.putShort((short) (Float.floatToIntBits(v) >>> 16));
                    default -> out.putShort(exactF16(v));
                }
            }
        }
        Files.write(file, out.array());
    }

    /** IEEE binary16 bits of a value that is zero or a normal F16 number exactly (test values only). */
    private static short exactF16(float v) {
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        if ((bits & 0x7FFFFFFF) == 0) {
            return (short) sign;
        }
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = bits & 0x7FFFFF;
        if (exp <= 0 || exp >= 31 || (mant & 0x1FFF) != 0) {
            throw new IllegalArgumentException(v + " is not a normal F16 value");
        }
        return (short) (sign | (exp << 10) | (mant >>> 13));
    }

    @Test
    void randomIsDeterministicPerKeyAndFollowsHfInit() {
        BaseModel a = Checkpoints.random(llama(false), 42);
        assertSameWeights(a, Checkpoints.random(llama(false), 42));
        assertNotEquals(a.weight("model.layers.0.self_attn.q_proj.weight").get(0),
                Checkpoints.random(llama(false), 43).weight("model.layers.0.self_attn.q_proj.weight").get(0));
        // per-key streams: a 1-layer model's tensors equal the 2-layer model's tensors of the same key
        LlamaConfig one = new LlamaConfig(11, 8, 12, 1, 2, 1, 4, 16, 1e-6, 10000.0, true, false, false, 0.02);
        Checkpoints.random(one, 42).weights().forEach((k, v) ->
                assertArrayEquals(v.toArray(), a.weight(k).toArray(), k));
        // distinct tensors get distinct streams
        assertNotEquals(a.weight("model.layers.0.self_attn.k_proj.weight").get(0),
                a.weight("model.layers.0.self_attn.v_proj.weight").get(0));
        a.weights().forEach((k, v) -> {
            if (k.endsWith(".bias")) {
                assertArrayEquals(new float[v.size()], v.toArray(), k);
            } else if (k.endsWith("norm.weight")) {
                for (float x : v.toArray()) {
                    assertEquals(1f, x, k);
                }
            }
        });
    }

    @Test
    void randomStandardDeviations() {
        BaseModel l = Checkpoints.random(
                new LlamaConfig(1000, 64, 96, 1, 4, 4, 16, 16, 1e-6, 1e4, false, false, true, 0.02), 1);
        assertStd(0.02, l.weight("model.embed_tokens.weight"));
        assertStd(0.02, l.weight("model.layers.0.mlp.down_proj.weight"));
        BaseModel g = Checkpoints.random(new Gpt2Config(1000, 64, 2, 4, 64, 256, 1e-5, 0.02), 1);
        assertStd(0.02, g.weight("transformer.wte.weight"));
        assertStd(0.02, g.weight("transformer.h.1.mlp.c_fc.weight"));
        assertStd(0.02, g.weight("transformer.h.0.attn.c_attn.weight"));
        // GPT-2 scales residual projections by 1/sqrt(2 · n_layer) = 1/2
        assertStd(0.01, g.weight("transformer.h.0.attn.c_proj.weight"));
        assertStd(0.01, g.weight("transformer.h.1.mlp.c_proj.weight"));
        for (float x : g.weight("transformer.h.0.ln_1.weight").toArray()) {
            assertEquals(1f, x);
        }
        assertArrayEquals(new float[64], g.weight("transformer.ln_f.bias").toArray());
    }

    private static void assertStd(double expected, Tensor t) {
        double sum = 0;
        double sq = 0;
        for (float x : t.toArray()) {
            sum += x;
            sq += (double) x * x;
        }
        int n = t.size();
        double mean = sum / n;
        double std = Math.sqrt(sq / n - mean * mean);
        assertEquals(0, mean, 4 * expected / Math.sqrt(n), "mean of " + n + " draws");
        assertEquals(expected, std, 0.03 * expected, "std of " + n + " draws");
    }
}
