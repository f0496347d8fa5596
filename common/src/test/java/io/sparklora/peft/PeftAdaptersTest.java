package io.sparklora.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraInit;
import io.sparklora.lora.LoraModule;
import io.sparklora.lora.TinyModels;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.ModelConfig;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.SafeTensorsWriter;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdaptersTest {
    @TempDir
    Path tmp;

    /**
     * Qwen2, Qwen3 and Mistral use LLaMA's module paths, so PEFT's keys are the same: all-linear gives the seven
     * projections of every layer (never Qwen3's q_norm/k_norm, nor biases), and the file reads back to the adapter.
     */
    @Test
    void llamaFamiliesWriteHfModulePathsAndReadBack() throws IOException {
        for (LlamaFamily family : new LlamaFamily[] {LlamaFamily.QWEN2, LlamaFamily.QWEN3, LlamaFamily.MISTRAL}) {
            LlamaConfig base = TinyModels.llama().withFamily(family);
            LoraConfig config = LoraConfig.defaults().withRank(2).withTargetModules(List.of(LoraConfig.ALL_LINEAR));
            LoraAdapter adapter = LoraAdapter.initialize(config, base);
            TinyModels.randomizeB(adapter, 5);
            Path dir = tmp.resolve(family.modelType());
            PeftAdapters.write(dir, adapter, "/models/" + family.modelType());
            TreeSet<String> expected = new TreeSet<>();
            for (int l = 0; l < base.numHiddenLayers(); l++) {
                for (String m : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                    expected.add("base_model.model.model.layers." + l + "." + m + ".lora_A.weight");
                    expected.add("base_model.model.model.layers." + l + "." + m + ".lora_B.weight");
                }
            }
            try (SafeTensorsReader st = SafeTensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals(expected, new TreeSet<>(st.names()), family.modelType());
            }
            JsonNode json = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            assertEquals(false, json.get("fan_in_fan_out").booleanValue(), family.modelType());
            LoraAdapter back = PeftAdapters.read(dir, base);
            for (LoraModule m : adapter.modules().values()) {
                assertArrayEquals(m.loraB().value().toArray(), back.module(m.target().path()).loraB().value().toArray(),
                        0f, family.modelType() + " " + m.target().path());
            }
        }
    }

    @Test
    void llamaRoundTripKeepsTensorsBitForBitAndConfig() throws IOException {
        LoraConfig config = LoraConfig.defaults().withRank(4).withAlpha(8).withDropout(0.05).withRslora()
                .withTargetModules(List.of("v_proj", "q_proj", "down_proj")).withLayersToTransform(List.of(1, 3), "layers")
                .withRankPattern(Map.of("down_proj", 2)).withAlphaPattern(Map.of("v_proj", 12.5)).withSeed(3);
        LoraAdapter adapter = LoraAdapter.initialize(config, TinyModels.llama());
        TinyModels.randomizeB(adapter, 4);
        Path dir = tmp.resolve("llama");
        PeftAdapters.write(dir, adapter, "/models/tiny-llama");

        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files are left");
        }
        try (SafeTensorsReader st = SafeTensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(12, st.names().size());
            assertArrayEquals(new int[] {4, 32}, st.info("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight").shape());
            assertArrayEquals(new int[] {32, 4}, st.info("base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight").shape());
            assertArrayEquals(new int[] {4, 32}, st.info("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight").shape());
            assertArrayEquals(new int[] {16, 4}, st.info("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").shape());
            assertArrayEquals(new int[] {2, 48}, st.info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape());
            assertEquals("F32", st.info("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").dtype().name());
        }
        JsonNode json = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals("CAUSAL_LM", json.get("task_type").asText());
        assertEquals(4, json.get("r").intValue());
        assertEquals(8, json.get("lora_alpha").intValue());
        assertTrue(json.get("lora_alpha").isIntegralNumber());
        assertEquals(0.05, json.get("lora_dropout").doubleValue());
        assertEquals("[\"down_proj\",\"q_proj\",\"v_proj\"]", json.get("target_modules").toString());
        assertEquals("none", json.get("bias").asText());
        assertEquals(false, json.get("fan_in_fan_out").booleanValue());
        assertEquals(true, json.get("use_rslora").booleanValue());
        assertEquals(false, json.get("use_dora").booleanValue());
        assertEquals(true, json.get("init_lora_weights").booleanValue());
        assertEquals("[1,3]", json.get("layers_to_transform").toString());
        assertEquals("layers", json.get("layers_pattern").asText());
        assertEquals("{\"down_proj\":2}", json.get("rank_pattern").toString());
        assertEquals("{\"v_proj\":12.5}", json.get("alpha_pattern").toString());
        assertEquals("/models/tiny-llama", json.get("base_model_name_or_path").asText());
        assertEquals(true, json.get("inference_mode").booleanValue());
        assertFalse(json.has("lora_bias"), "PEFT < 0.14 refuses unknown fields such as lora_bias");
        for (String nullField : List.of("modules_to_save", "revision", "megatron_config", "auto_mapping")) {
            assertTrue(json.get(nullField).isNull(), nullField);
        }
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(new ArrayList<>(new TreeSet<>(keys)), keys, "keys sorted as PEFT writes them");

        LoraAdapter back = PeftAdapters.read(dir, TinyModels.llama());
        assertEquals(config.withSeed(0), back.config(), "the seed is not part of adapter_config.json");
        assertSameModules(adapter, back);
    }

    @Test
    void gpt2RoundTripUsesConv1dPathsAndFanInFanOut() throws IOException {
        LoraConfig config = LoraConfig.defaults().withRank(2).withTargetModules(List.of("c_attn", "c_proj"))
                .withInit(LoraInit.GAUSSIAN).withSeed(8);
        LoraAdapter adapter = LoraAdapter.initialize(config, TinyModels.gpt2());
        TinyModels.randomizeB(adapter, 5);
        Path dir = tmp.resolve("gpt2");
        PeftAdapters.write(dir, adapter, "gpt2");
        try (SafeTensorsReader st = SafeTensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(24, st.names().size());
            assertArrayEquals(new int[] {2, 32}, st.info("base_model.model.transformer.h.3.attn.c_attn.lora_A.weight").shape());
            assertArrayEquals(new int[] {96, 2}, st.info("base_model.model.transformer.h.3.attn.c_attn.lora_B.weight").shape());
            assertArrayEquals(new int[] {2, 48}, st.info("base_model.model.transformer.h.3.mlp.c_proj.lora_A.weight").shape());
        }
        JsonNode json = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals(true, json.get("fan_in_fan_out").booleanValue());
        assertEquals("gaussian", json.get("init_lora_weights").asText());
        assertTrue(json.get("layers_to_transform").isNull());
        LoraAdapter back = PeftAdapters.read(dir, TinyModels.gpt2());
        assertEquals(config.withSeed(0), back.config());
        assertSameModules(adapter, back);
    }

    @Test
    void allLinearIsSavedAsTheModuleNames() throws IOException {
        LoraConfig config = LoraConfig.defaults().withTargetModules(List.of("all-linear")).withRank(2);
        LoraAdapter adapter = LoraAdapter.initialize(config, TinyModels.gpt2());
        PeftAdapters.write(tmp, adapter, "gpt2");
        LoraAdapter back = PeftAdapters.read(tmp, TinyModels.gpt2());
        assertEquals(config.withTargetModules(List.of("c_attn", "c_fc", "c_proj")), back.config());
        assertSameModules(adapter, back);
    }

    @Test
    void adapterWithoutConfigIsDescribedByItsModules() throws IOException {
        LlamaConfig llama = TinyModels.llama();
        List<LoraModule> modules = new ArrayList<>();
        for (LinearModule m : llama.linearModules()) {
            if (m.name().equals("o_proj") && m.layer() != 2) {
                int r = m.layer() == 0 ? 2 : 4;
                modules.add(new LoraModule(m, r, 8f, 8f / r, 0f, random(r, m.inFeatures(), r), random(m.outFeatures(), r, 7)));
            }
        }
        LoraAdapter adapter = new LoraAdapter(null, modules);
        PeftAdapters.write(tmp, adapter, "tiny");
        LoraAdapter back = PeftAdapters.read(tmp, llama);
        assertEquals(LoraConfig.defaults().withRank(4).withAlpha(8).withTargetModules(List.of("o_proj"))
                .withLayersToTransform(List.of(0, 1, 3), null)
                .withRankPattern(Map.of("model\\.layers\\.0\\.self_attn\\.o_proj", 2)), back.config());
        assertSameModules(adapter, back);
    }

    @Test
    void refusesToWriteAConfigThatDoesNotDescribeTheModules() {
        LinearModule q0 = TinyModels.llama().linearModules().get(0);
        LoraModule rank2 = new LoraModule(q0, 2, 16f, 8f, 0f, Tensor.zeros(2, 32), Tensor.zeros(32, 2));
        assertEquals("Cannot write adapter " + tmp + ": module model.layers.0.self_attn.q_proj has rank 2, its config "
                + "gives 8", assertThrows(IllegalArgumentException.class, () -> PeftAdapters.write(tmp,
                new LoraAdapter(LoraConfig.defaults(), List.of(rank2)), "tiny")).getMessage());
        LoraModule odd = new LoraModule(q0, 2, 16f, 3f, 0f, Tensor.zeros(2, 32), Tensor.zeros(32, 2));
        assertEquals("Cannot describe adapter: module model.layers.0.self_attn.q_proj has scaling 3.0, neither "
                + "alpha/rank nor alpha/√rank", assertThrows(IllegalArgumentException.class, () -> PeftAdapters.write(tmp,
                new LoraAdapter(null, List.of(odd)), "tiny")).getMessage());
    }

    @Test
    void readsAnAdapterAsPeftWritesIt() throws IOException {
        // adapter_config.json as PEFT 0.17 writes it for LlamaForCausalLM, with fields we do not model.
        Files.writeString(tmp.resolve("adapter_config.json"), """
                {
                  "alpha_pattern": {"v_proj": 32},
                  "auto_mapping": null,
                  "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
                  "bias": "none",
                  "corda_config": null,
                  "eva_config": null,
                  "exclude_modules": null,
                  "fan_in_fan_out": false,
                  "inference_mode": true,
                  "init_lora_weights": true,
                  "layer_replication": null,
                  "layers_pattern": "layers",
                  "layers_to_transform": [1, 2],
                  "loftq_config": {},
                  "lora_alpha": 16,
                  "lora_bias": false,
                  "lora_dropout": 0.1,
                  "megatron_config": null,
                  "megatron_core": "megatron.core",
                  "modules_to_save": null,
                  "peft_type": "LORA",
                  "peft_version": "0.17.1",
                  "qalora_group_size": 16,
                  "r": 8,
                  "rank_pattern": {"model.layers.1.self_attn.q_proj": 4},
                  "revision": null,
                  "target_modules": ["v_proj", "q_proj"],
                  "target_parameters": null,
                  "task_type": "CAUSAL_LM",
                  "trainable_token_indices": null,
                  "use_dora": false,
                  "use_qalora": false,
                  "use_rslora": false
                }
                """);
        LlamaConfig llama = TinyModels.llama();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, int[]> expectedRank = Map.of("model.layers.1.self_attn.q_proj", new int[] {4},
                "model.layers.1.self_attn.v_proj", new int[] {8}, "model.layers.2.self_attn.q_proj", new int[] {8},
                "model.layers.2.self_attn.v_proj", new int[] {8});
        int seed = 0;
        for (LinearModule m : llama.linearModules()) {
            if (expectedRank.containsKey(m.path())) {
                int r = expectedRank.get(m.path())[0];
                tensors.put("base_model.model." + m.path() + ".lora_A.weight", random(r, m.inFeatures(), seed++));
                tensors.put("base_model.model." + m.path() + ".lora_B.weight", random(m.outFeatures(), r, seed++));
            }
        }
        SafeTensorsWriter.write(tmp.resolve("adapter_model.safetensors"), Map.of("format", "pt"), tensors);

        LoraAdapter a = PeftAdapters.read(tmp, llama);
        assertEquals(List.of("model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
                "model.layers.2.self_attn.q_proj", "model.layers.2.self_attn.v_proj"), List.copyOf(a.modules().keySet()));
        LoraModule q1 = a.module("model.layers.1.self_attn.q_proj");
        assertEquals(4, q1.rank());
        assertEquals(4f, q1.scaling());   // 16 / 4
        assertEquals(2f, a.module("model.layers.2.self_attn.q_proj").scaling()); // 16 / 8
        assertEquals(4f, a.module("model.layers.2.self_attn.v_proj").scaling()); // 32 / 8
        assertEquals(0.1f, q1.dropout());
        for (LoraModule m : a.modules().values()) {
            assertArrayEquals(tensors.get(m.loraA().name()).toArray(), m.loraA().value().toArray(), m.loraA().name());
            assertArrayEquals(tensors.get(m.loraB().name()).toArray(), m.loraB().value().toArray(), m.loraB().name());
        }
    }

    @Test
    void acceptsKeysCarryingTheAdapterName() throws IOException {
        LoraAdapter adapter = LoraAdapter.initialize(LoraConfig.defaults(), TinyModels.llama());
        TinyModels.randomizeB(adapter, 2);
        PeftAdapters.write(tmp, adapter, "tiny");
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        for (LoraModule m : adapter.modules().values()) {
            renamed.put(m.loraA().name().replace(".lora_A.weight", ".lora_A.default.weight"), m.loraA().value());
            renamed.put(m.loraB().name().replace(".lora_B.weight", ".lora_B.default.weight"), m.loraB().value());
        }
        SafeTensorsWriter.write(tmp.resolve("adapter_model.safetensors"), Map.of(), renamed);
        assertSameModules(adapter, PeftAdapters.read(tmp, TinyModels.llama()));
    }

    @Test
    void readsHalfPrecisionTensorsAndRefusesIntegerOnes() throws IOException {
        PeftAdapters.write(tmp, LoraAdapter.initialize(LoraConfig.defaults().withRank(2).withTargetModules(List.of("q_proj"))
                .withLayersToTransform(List.of(0), null), TinyModels.llama()), "tiny");
        String a = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        String b = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
        float[] av = new float[2 * 32];
        float[] bv = new float[32 * 2];
        for (int i = 0; i < av.length; i++) {
            av[i] = (i % 17 - 8) / 16f; // exact in bfloat16
            bv[i] = (i % 5 - 2) / 4f;
        }
        writeBf16(tmp.resolve("adapter_model.safetensors"), a, "BF16", av, b, bv);
        LoraModule m = PeftAdapters.read(tmp, TinyModels.llama()).module("model.layers.0.self_attn.q_proj");
        assertArrayEquals(av, m.loraA().value().toArray());
        assertArrayEquals(bv, m.loraB().value().toArray());

        writeBf16(tmp.resolve("adapter_model.safetensors"), a, "I16", av, b, bv);
        assertEquals("Cannot read adapter " + tmp + ": tensor " + a + " has dtype I16, expected a float type",
                readError(tmp, TinyModels.llama()));
    }

    /** A safetensors file of two (rows, cols) tensors stored as 16-bit values (the high half of each float's bits). */
    private static void writeBf16(Path file, String keyA, String dtypeA, float[] a, String keyB, float[] b)
            throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"" + keyA + "\":{\"dtype\":\"" + dtypeA
                + "\",\"shape\":[2,32],\"data_offsets\":[0," + 2 * a.length + "]},\"" + keyB
                + "\":{\"dtype\":\"BF16\",\"shape\":[32,2],\"data_offsets\":[" + 2 * a.length + ","
                + 2 * (a.length + b.length) + "]}}";
        while (header.length() % 8 != 0) {
            header += " ";
        }
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8 + header.length() + 2 * (a.length + b.length))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length()).put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (float[] values : new float[][] {a, b}) {
            for (float v : values) {
                buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        Files.write(file, buf.array());
    }

    @Test
    void refusesPickleAndMissingFiles() throws IOException {
        Files.write(tmp.resolve("adapter_model.bin"), new byte[] {(byte) 0x80, 2});
        assertEquals("Cannot read adapter " + tmp + ": adapter_model.bin is a pickle file; convert it to "
                + "adapter_model.safetensors (e.g. with PEFT: model.save_pretrained(dir, safe_serialization=True))",
                readError(tmp, TinyModels.llama()));
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertEquals("Cannot read adapter " + empty + ": adapter_model.safetensors is missing",
                readError(empty, TinyModels.llama()));
        Path noConfig = tmp.resolve("noconfig");
        PeftAdapters.write(noConfig, LoraAdapter.initialize(LoraConfig.defaults(), TinyModels.llama()), "tiny");
        Files.delete(noConfig.resolve("adapter_config.json"));
        assertEquals("Cannot read adapter " + noConfig + ": adapter_config.json is missing",
                readError(noConfig, TinyModels.llama()));
    }

    @Test
    void refusesShapesThatDoNotFitTheBase() throws IOException {
        LlamaConfig wideFfn = new LlamaConfig(64, 32, 64, 4, 4, 2, 8, 64, 1e-5, 1e4, false, false, false, 0.02);
        PeftAdapters.write(tmp, LoraAdapter.initialize(LoraConfig.defaults().withRank(4)
                .withTargetModules(List.of("up_proj")), wideFfn), "wide");
        assertEquals("Cannot read adapter " + tmp + ": tensor base_model.model.model.layers.0.mlp.up_proj.lora_B.weight "
                + "has shape [64, 4], expected [48, 4] (rank 4 from adapter_config.json, out = 48 in the base)",
                readError(tmp, TinyModels.llama()));
    }

    @Test
    void refusesShapesThatDisagreeWithTheConfigRank() throws IOException {
        PeftAdapters.write(tmp, LoraAdapter.initialize(LoraConfig.defaults().withRank(4), TinyModels.llama()), "tiny");
        editConfig(tmp, "\"rank_pattern\" : { }", "\"rank_pattern\" : {\"layers.2.self_attn.v_proj\": 2}");
        assertEquals("Cannot read adapter " + tmp + ": tensor base_model.model.model.layers.2.self_attn.v_proj.lora_A.weight "
                + "has shape [4, 32], expected [2, 32] (rank 2 from adapter_config.json, in = 32 in the base)",
                readError(tmp, TinyModels.llama()));
    }

    @Test
    void refusesTensorsTheConfigOrBaseDoNotAccountFor() throws IOException {
        LoraConfig config = LoraConfig.defaults().withTargetModules(List.of("q_proj"));
        LoraAdapter adapter = LoraAdapter.initialize(config, TinyModels.llama());
        PeftAdapters.write(tmp, adapter, "tiny");
        Path st = tmp.resolve("adapter_model.safetensors");
        String b0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";

        Map<String, Tensor> tensors = tensorsOf(adapter);
        tensors.remove(b0);
        SafeTensorsWriter.write(st, Map.of(), tensors);
        assertEquals("Cannot read adapter " + tmp + ": module model.layers.0.self_attn.q_proj is targeted by "
                + "adapter_config.json but has no lora_B tensor", readError(tmp, TinyModels.llama()));

        tensors = tensorsOf(adapter);
        tensors.put("base_model.model.lm_head.weight", Tensor.zeros(64, 32));
        SafeTensorsWriter.write(st, Map.of(), tensors);
        assertEquals("Cannot read adapter " + tmp + ": unexpected tensor base_model.model.lm_head.weight (not a LoRA A "
                + "or B matrix)", readError(tmp, TinyModels.llama()));

        tensors = tensorsOf(adapter);
        tensors.put("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", Tensor.zeros(8, 32));
        SafeTensorsWriter.write(st, Map.of(), tensors);
        assertEquals("Cannot read adapter " + tmp + ": tensor base_model.model.model.layers.0.self_attn.k_proj.lora_A."
                + "weight adapts model.layers.0.self_attn.k_proj, which adapter_config.json does not target",
                readError(tmp, TinyModels.llama()));

        tensors = tensorsOf(adapter);
        tensors.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", Tensor.zeros(8, 32));
        SafeTensorsWriter.write(st, Map.of(), tensors);
        assertEquals("Cannot read adapter " + tmp + ": tensor base_model.model.model.layers.7.self_attn.q_proj.lora_A."
                + "weight adapts model.layers.7.self_attn.q_proj, which the llama base does not have",
                readError(tmp, TinyModels.llama()));

        tensors = tensorsOf(adapter);
        tensors.put("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", Tensor.zeros(8, 32));
        SafeTensorsWriter.write(st, Map.of(), tensors);
        assertEquals("Cannot read adapter " + tmp + ": module model.layers.0.self_attn.q_proj has two lora_A tensors: "
                + "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight and "
                + "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", readError(tmp, TinyModels.llama()));
    }

    @Test
    void refusesConfigsWeCannotHonour() throws IOException {
        PeftAdapters.write(tmp, LoraAdapter.initialize(LoraConfig.defaults(), TinyModels.llama()), "tiny");
        String prefix = "Cannot read adapter " + tmp + ": adapter_config.json: ";
        assertEquals(prefix + "fan_in_fan_out is false, but a gpt2 base stores its weights (in, out): it must be true",
                readError(tmp, TinyModels.gpt2()));
        editConfig(tmp, "\"use_dora\" : false", "\"use_dora\" : true");
        assertEquals(prefix + "use_dora is true: DoRA is not supported", readError(tmp, TinyModels.llama()));
        editConfig(tmp, "\"use_dora\" : true", "\"use_dora\" : false");
        editConfig(tmp, "\"bias\" : \"none\"", "\"bias\" : \"all\"");
        assertEquals(prefix + "bias is all, only none is supported (no trained biases)", readError(tmp, TinyModels.llama()));
        editConfig(tmp, "\"bias\" : \"all\"", "\"bias\" : \"none\"");
        editConfig(tmp, "\"peft_type\" : \"LORA\"", "\"peft_type\" : \"IA3\"");
        assertEquals(prefix + "peft_type is IA3, only LORA is supported", readError(tmp, TinyModels.llama()));
        editConfig(tmp, "\"peft_type\" : \"IA3\"", "\"peft_type\" : \"LORA\"");
        editConfig(tmp, "\"r\" : 8", "\"r\" : 0");
        assertEquals(prefix + "Invalid rank 0: must be > 0", readError(tmp, TinyModels.llama()));
        editConfig(tmp, "\"r\" : 0", "\"r\" : 8");
        editConfig(tmp, "\"init_lora_weights\" : true", "\"init_lora_weights\" : \"pissa\"");
        assertEquals(prefix + "init_lora_weights is \"pissa\", only true, false and \"gaussian\" are supported (PiSSA, "
                + "OLoRA, LoftQ, EVA and CorDA adapters need their modified base weights)", readError(tmp, TinyModels.llama()));
        editConfig(tmp, "\"init_lora_weights\" : \"pissa\"", "\"init_lora_weights\" : true");
        editConfig(tmp, "\"target_modules\" : [ \"q_proj\", \"v_proj\" ]", "\"target_modules\" : \"model.layers.0.self_attn.(q|v)_proj\"");
        assertEquals("Cannot read adapter " + tmp + ": tensor base_model.model.model.layers.1.self_attn.q_proj.lora_A."
                + "weight adapts model.layers.1.self_attn.q_proj, which adapter_config.json does not target",
                readError(tmp, TinyModels.llama()), "the regex selects layer 0 only; layer 1's tensors are extra");
    }

    @Test
    void regexTargetModulesRoundTrip() throws IOException {
        LoraConfig config = LoraConfig.defaults().withRank(2).withTargetModulesRegex("transformer\\.h\\.[13]\\.mlp\\.c_.*");
        LoraAdapter adapter = LoraAdapter.initialize(config, TinyModels.gpt2());
        PeftAdapters.write(tmp, adapter, "gpt2");
        JsonNode json = new ObjectMapper().readTree(tmp.resolve("adapter_config.json").toFile());
        assertEquals("transformer\\.h\\.[13]\\.mlp\\.c_.*", json.get("target_modules").asText());
        LoraAdapter back = PeftAdapters.read(tmp, TinyModels.gpt2());
        assertEquals(config.withSeed(0), back.config());
        assertEquals(List.of("transformer.h.1.mlp.c_fc", "transformer.h.1.mlp.c_proj", "transformer.h.3.mlp.c_fc",
                "transformer.h.3.mlp.c_proj"), List.copyOf(back.modules().keySet()));
        assertSameModules(adapter, back);
    }

    private static void editConfig(Path dir, String from, String to) throws IOException {
        Path f = dir.resolve("adapter_config.json");
        String s = Files.readString(f);
        assertTrue(s.contains(from), "config contains " + from + ": " + s);
        Files.writeString(f, s.replace(from, to));
    }

    private static Map<String, Tensor> tensorsOf(LoraAdapter adapter) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        adapter.parameters().forEach(p -> t.put(p.name(), p.value()));
        return t;
    }

    private static String readError(Path dir, ModelConfig base) {
        return assertThrows(IOException.class, () -> PeftAdapters.read(dir, base)).getMessage();
    }

    private static Tensor random(int rows, int cols, long seed) {
        io.sparklora.util.SplitMix64 rng = new io.sparklora.util.SplitMix64(seed);
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, rng.nextFloat() - 0.5f);
        }
        return t;
    }

    private static void assertSameModules(LoraAdapter expected, LoraAdapter actual) {
        assertEquals(List.copyOf(expected.modules().keySet()), List.copyOf(actual.modules().keySet()));
        for (LoraModule e : expected.modules().values()) {
            LoraModule a = actual.module(e.target().path());
            String p = e.target().path();
            assertEquals(e.target(), a.target(), p);
            assertEquals(e.rank(), a.rank(), p);
            assertEquals(e.alpha(), a.alpha(), p);
            assertEquals(e.scaling(), a.scaling(), p);
            assertEquals(e.dropout(), a.dropout(), p);
            assertArrayEquals(bits(e.loraA().value()), bits(a.loraA().value()), p + " lora_A");
            assertArrayEquals(bits(e.loraB().value()), bits(a.loraB().value()), p + " lora_B");
            assertArrayEquals(e.loraA().value().shape(), a.loraA().value().shape(), p);
            assertArrayEquals(e.loraB().value().shape(), a.loraB().value().shape(), p);
        }
    }

    private static int[] bits(Tensor t) {
        int[] b = new int[t.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(t.get(i));
        }
        return b;
    }
}
