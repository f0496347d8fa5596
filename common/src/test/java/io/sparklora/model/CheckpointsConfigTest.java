package io.sparklora.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json → LlamaConfig / Gpt2Config with transformers' defaults; unsupported settings refused by name. */
class CheckpointsConfigTest {
    @TempDir
    Path dir;

    private static final String LLAMA = "\"model_type\":\"llama\",\"vocab_size\":32,\"hidden_size\":16,"
            + "\"intermediate_size\":24,\"num_hidden_layers\":2,\"num_attention_heads\":4";
    private static final String GPT2 = "\"model_type\":\"gpt2\",\"vocab_size\":32,\"n_embd\":16,\"n_layer\":2,"
            + "\"n_head\":4";

    private ModelConfig read(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return Checkpoints.readConfig(dir);
    }

    private String problem(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.readConfig(dir));
        String prefix = "Cannot read model config " + dir.resolve("config.json") + ": ";
        assertEquals(prefix, e.getMessage().substring(0, Math.min(prefix.length(), e.getMessage().length())),
                e.getMessage());
        return e.getMessage().substring(prefix.length());
    }

    @Test
    void llamaDefaultsMatchTransformers() throws IOException {
        ModelConfig c = read("{" + LLAMA + "}");
        assertEquals(new LlamaConfig(32, 16, 24, 2, 4, 4, 4, 2048, 1e-6, 10000.0, false, false, false, 0.02), c);
    }

    @Test
    void llamaExplicitFieldsAndArchitecturesOnly() throws IOException {
        ModelConfig c = read("{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":32,\"hidden_size\":16,"
                + "\"intermediate_size\":24,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"num_key_value_heads\":2,\"head_dim\":8,\"max_position_embeddings\":64,\"rms_norm_eps\":1e-5,"
                + "\"rope_theta\":500000.0,\"attention_bias\":true,\"mlp_bias\":true,\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.01,\"rope_scaling\":null,\"hidden_act\":\"silu\",\"torch_dtype\":\"bfloat16\"}");
        assertEquals(new LlamaConfig(32, 16, 24, 2, 4, 2, 8, 64, 1e-5, 500000.0, true, true, true, 0.01), c);
    }

    @Test
    void llamaRopeParametersOfTransformers5() throws IOException {
        LlamaConfig c = (LlamaConfig) read("{" + LLAMA
                + ",\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":1000.0}}");
        assertEquals(1000.0, c.ropeTheta());
        assertEquals("unsupported rope_parameters type 'yarn': YaRN is not implemented (implemented: default, linear, "
                + "llama3)", problem("{" + LLAMA + ",\"rope_parameters\":{\"rope_type\":\"yarn\",\"factor\":4.0}}"));
        LlamaConfig scaled = (LlamaConfig) read("{" + LLAMA + ",\"rope_parameters\":{\"rope_type\":\"linear\","
                + "\"factor\":2.0,\"rope_theta\":1000.0}}");
        assertEquals(RopeScaling.linear(2), scaled.ropeScaling());
        assertEquals(1000.0, scaled.ropeTheta());
    }

    private static final String QWEN_NO_KV = "\"model_type\":\"qwen2\",\"vocab_size\":32,\"hidden_size\":16,"
            + "\"intermediate_size\":24,\"num_hidden_layers\":2,\"num_attention_heads\":4";
    private static final String QWEN = QWEN_NO_KV + ",\"num_key_value_heads\":4";

    /** The defaults of Qwen2Config, Qwen3Config and MistralConfig where they differ from LlamaConfig's. */
    @Test
    void familyDefaultsMatchTransformers() throws IOException {
        assertEquals(new LlamaConfig(LlamaFamily.QWEN2, 32, 16, 24, 2, 4, 32 / 8, 4, 32768, 1e-6, 1e4, false, false,
                false, 0.02, RopeScaling.NONE, 0), read("{" + QWEN + "}"));
        // Qwen3Config: head_dim 128 unless given; attention_bias read; use_sliding_window false by default
        assertEquals(new LlamaConfig(LlamaFamily.QWEN3, 32, 16, 24, 2, 4, 2, 128, 32768, 1e-6, 1e4, true, false,
                false, 0.02, RopeScaling.NONE, 0), read("{" + QWEN_NO_KV.replace("qwen2", "qwen3")
                + ",\"num_key_value_heads\":2,\"attention_bias\":true,\"sliding_window\":8}"));
        // MistralConfig: 8 kv heads, sliding_window 4096 unless given (null: none), 131072 positions
        String mistral = "{" + LLAMA.replace("llama", "mistral").replace("\"num_attention_heads\":4",
                "\"num_attention_heads\":8");
        assertEquals(new LlamaConfig(LlamaFamily.MISTRAL, 32, 16, 24, 2, 8, 8, 2, 131072, 1e-6, 1e4, false, false,
                false, 0.02, RopeScaling.NONE, 4096), read(mistral + "}"));
        assertEquals(0, ((LlamaConfig) read(mistral + ",\"sliding_window\":null}")).slidingWindow());
        // Qwen windows only where use_sliding_window and max_window_layers < layers, or layer_types says so
        assertEquals(0, ((LlamaConfig) read("{" + QWEN + ",\"use_sliding_window\":true,\"sliding_window\":16,"
                + "\"max_window_layers\":2}")).slidingWindow());
        assertEquals(16, ((LlamaConfig) read("{" + QWEN + ",\"use_sliding_window\":true,\"sliding_window\":16,"
                + "\"max_window_layers\":1}")).slidingWindow());
        assertEquals(16, ((LlamaConfig) read("{" + QWEN + ",\"sliding_window\":16,\"layer_types\":"
                + "[\"full_attention\",\"sliding_attention\"]}")).slidingWindow());
        LlamaConfig llama3 = (LlamaConfig) read("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"llama3\","
                + "\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":8192}}");
        assertEquals(RopeScaling.llama3(8, 1, 4, 8192), llama3.ropeScaling());
        assertEquals(RopeScaling.linear(2), ((LlamaConfig) read("{" + LLAMA
                + ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}}")).ropeScaling());
    }

    /** A real Qwen2.5-0.5B config.json (its fields as published), read as the architecture it describes. */
    @Test
    void qwen25HalfBillionConfig() throws IOException {
        LlamaConfig c = (LlamaConfig) read("{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,"
                + "\"bos_token_id\":151643,\"eos_token_id\":151643,\"hidden_act\":\"silu\",\"hidden_size\":896,"
                + "\"initializer_range\":0.02,\"intermediate_size\":4864,\"max_position_embeddings\":32768,"
                + "\"max_window_layers\":24,\"model_type\":\"qwen2\",\"num_attention_heads\":14,"
                + "\"num_hidden_layers\":24,\"num_key_value_heads\":2,\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,"
                + "\"sliding_window\":32768,\"tie_word_embeddings\":true,\"torch_dtype\":\"bfloat16\","
                + "\"transformers_version\":\"4.40.1\",\"use_cache\":true,\"use_sliding_window\":false,"
                + "\"vocab_size\":151936}");
        assertEquals(new LlamaConfig(LlamaFamily.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 32768, 1e-6, 1e6, false,
                false, true, 0.02, RopeScaling.NONE, 0), c);
        assertEquals(494_032_768L, c.weightShapes().values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b)).sum());
    }

    @Test
    void gpt2Defaults() throws IOException {
        ModelConfig c = read("{" + GPT2 + ",\"n_inner\":null}");
        assertEquals(new Gpt2Config(32, 16, 2, 4, 1024, 64, 1e-5, 0.02), c);
        ModelConfig explicit = read("{\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":32,\"n_embd\":16,"
                + "\"n_layer\":2,\"n_head\":4,\"n_positions\":128,\"n_inner\":48,\"layer_norm_epsilon\":1e-6,"
                + "\"activation_function\":\"gelu_pytorch_tanh\",\"tie_word_embeddings\":true}");
        assertEquals(new Gpt2Config(32, 16, 2, 4, 128, 48, 1e-6, 0.02), explicit);
    }

    @Test
    void toHfConfigReadsBackToTheSameRecord() throws IOException {
        for (ModelConfig c : new ModelConfig[] {
                new LlamaConfig(32, 16, 24, 2, 4, 2, 8, 64, 1e-5, 5e5, true, false, true, 0.01),
                new LlamaConfig(32, 16, 24, 2, 4, 2, 8, 64, 1e-5, 5e5, false, false, true, 0.01)
                        .withRopeScaling(RopeScaling.llama3(8, 1, 4, 32)),
                new LlamaConfig(LlamaFamily.QWEN2, 32, 16, 24, 2, 4, 2, 4, 64, 1e-6, 1e6, false, false, true, 0.02,
                        RopeScaling.linear(2), 0),
                new LlamaConfig(LlamaFamily.QWEN2, 32, 16, 24, 2, 4, 2, 4, 64, 1e-6, 1e6, false, false, true, 0.02,
                        RopeScaling.NONE, 32),
                new LlamaConfig(LlamaFamily.QWEN2, 32, 16, 24, 2, 4, 2, 8, 64, 1e-6, 1e6, false, false, true, 0.02,
                        RopeScaling.NONE, 0),
                new LlamaConfig(LlamaFamily.QWEN3, 32, 16, 24, 2, 4, 2, 6, 64, 1e-6, 1e6, true, false, false, 0.02,
                        RopeScaling.NONE, 0),
                new LlamaConfig(LlamaFamily.MISTRAL, 32, 16, 24, 2, 4, 2, 4, 64, 1e-6, 1e6, false, false, false, 0.02,
                        RopeScaling.NONE, 48),
                new LlamaConfig(LlamaFamily.MISTRAL, 32, 16, 24, 2, 4, 2, 4, 64, 1e-6, 1e6, false, false, false, 0.02,
                        RopeScaling.NONE, 0),
                new Gpt2Config(32, 16, 2, 4, 128, 48, 1e-6, 0.03)}) {
            Files.writeString(dir.resolve("config.json"),
                    io.sparklora.util.StrictJson.MAPPER.writeValueAsString(c.toHfConfig()));
            assertEquals(c, Checkpoints.readConfig(dir));
        }
    }

    @Test
    void unsupportedSettingsAreRefusedByName() throws IOException {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"model_type\":\"gemma\"}",
                "unsupported model_type 'gemma' (supported: llama, mistral, qwen2, qwen3, gpt2)");
        cases.put("{\"architectures\":[\"LlamaForSequenceClassification\"]}",
                "unsupported architecture 'LlamaForSequenceClassification' (supported: LlamaForCausalLM, "
                        + "MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPT2LMHeadModel)");
        cases.put("{\"model_type\":\"qwen2\",\"architectures\":[\"Qwen3ForCausalLM\"]}",
                "model_type 'qwen2' contradicts architectures [\"Qwen3ForCausalLM\"]");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2.0}}",
                "unsupported rope_scaling type 'dynamic': dynamic NTK scaling is not implemented (implemented: "
                        + "default, linear, llama3)");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0,"
                        + "\"original_max_position_embeddings\":32768}}",
                "unsupported rope_scaling type 'yarn': YaRN is not implemented (implemented: default, linear, llama3)");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"longrope\",\"factor\":4.0}}",
                "unsupported rope_scaling type 'longrope' (implemented: default, linear, llama3)");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"linear\"}}",
                "rope_scaling {\"rope_type\":\"linear\"}: 'factor' must be a number");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":0.5}}",
                "Invalid rope_scaling factor 0.5: must be >= 1 in rope_scaling {\"rope_type\":\"linear\",\"factor\":0.5}");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"rope_type\":\"linear\",\"type\":\"dynamic\",\"factor\":2}}",
                "rope_scaling {\"rope_type\":\"linear\",\"type\":\"dynamic\",\"factor\":2} has both rope_type and "
                        + "type, and they differ");
        cases.put("{" + LLAMA + ",\"partial_rotary_factor\":0.5}",
                "unsupported partial_rotary_factor 0.5: RoPE rotates the whole head");
        cases.put("{" + QWEN_NO_KV + "}", "Invalid num_key_value_heads 32: must divide num_attention_heads = 4");
        cases.put("{\"model_type\":\"gpt2\",\"architectures\":[\"LlamaForCausalLM\"]}",
                "model_type 'gpt2' contradicts architectures [\"LlamaForCausalLM\"]");
        cases.put("{\"vocab_size\":3}", "neither model_type nor architectures says which model this is");
        cases.put("{" + LLAMA + ",\"hidden_act\":\"gelu\"}",
                "unsupported hidden_act 'gelu': the SwiGLU MLP here uses silu");
        cases.put("{" + GPT2 + ",\"activation_function\":\"relu\"}",
                "unsupported activation_function 'relu' (supported: gelu_new, gelu_pytorch_tanh)");
        cases.put("{" + GPT2 + ",\"scale_attn_by_inverse_layer_idx\":true}",
                "unsupported scale_attn_by_inverse_layer_idx true");
        cases.put("{" + GPT2 + ",\"reorder_and_upcast_attn\":true}", "unsupported reorder_and_upcast_attn true");
        cases.put("{" + GPT2 + ",\"scale_attn_weights\":false}",
                "unsupported scale_attn_weights false: attention scores are always divided by sqrt(head_dim)");
        cases.put("{" + GPT2 + ",\"tie_word_embeddings\":false}",
                "unsupported tie_word_embeddings false: the GPT-2 LM head is always tied to wte");
        cases.put("{\"model_type\":\"llama\",\"vocab_size\":32}", "missing field 'hidden_size'");
        cases.put("{" + LLAMA + ",\"num_key_value_heads\":\"two\"}",
                "field 'num_key_value_heads' must be an integer, got \"two\"");
        cases.put("{" + LLAMA + ",\"rms_norm_eps\":true}", "field 'rms_norm_eps' must be a number, got true");
        cases.put("{" + LLAMA + ",\"num_key_value_heads\":3}",
                "Invalid num_key_value_heads 3: must divide num_attention_heads = 4");
        cases.put("{" + GPT2.replace("\"n_head\":4", "\"n_head\":5") + "}", "Invalid n_head 5: must divide n_embd = 16");
        cases.put("{\"model_type\":\"llama\",\"vocab_size\":32,\"hidden_size\":18,\"intermediate_size\":24,"
                        + "\"num_hidden_layers\":2,\"num_attention_heads\":4}",
                "hidden_size 18 is not divisible by num_attention_heads 4 and no head_dim is given");
        cases.put("{" + LLAMA + ",\"model_type\":\"gpt2\"}", "not valid JSON: Duplicate field 'model_type'");
        cases.put("model_type = llama", "not valid JSON: Unrecognized token 'model_type': was expecting (JSON "
                + "String, Number, Array, Object or token 'null', 'true' or 'false')");
        cases.put("[1, 2]", "not a JSON object");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            assertEquals(c.getValue(), problem(c.getKey()), c.getKey());
        }
    }

    @Test
    void missingConfigFile() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Checkpoints.readConfig(dir));
        assertEquals("Cannot read model config " + dir.resolve("config.json") + ": no such file", e.getMessage());
    }
}
