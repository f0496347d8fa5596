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
        assertEquals("unsupported rope_parameters {\"rope_type\":\"yarn\",\"factor\":4.0}: only rope_type 'default' "
                + "is implemented", problem("{" + LLAMA + ",\"rope_parameters\":{\"rope_type\":\"yarn\",\"factor\":4.0}}"));
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
                new Gpt2Config(32, 16, 2, 4, 128, 48, 1e-6, 0.03)}) {
            Files.writeString(dir.resolve("config.json"),
                    io.sparklora.util.StrictJson.MAPPER.writeValueAsString(c.toHfConfig()));
            assertEquals(c, Checkpoints.readConfig(dir));
        }
    }

    @Test
    void unsupportedSettingsAreRefusedByName() throws IOException {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"model_type\":\"mistral\"}", "unsupported model_type 'mistral' (supported: llama, gpt2)");
        cases.put("{\"architectures\":[\"LlamaForSequenceClassification\"]}",
                "unsupported architecture 'LlamaForSequenceClassification' (supported: LlamaForCausalLM, "
                        + "GPT2LMHeadModel)");
        cases.put("{\"model_type\":\"gpt2\",\"architectures\":[\"LlamaForCausalLM\"]}",
                "model_type 'gpt2' contradicts architectures [\"LlamaForCausalLM\"]");
        cases.put("{\"vocab_size\":3}", "neither model_type nor architectures says which model this is");
        cases.put("{" + LLAMA + ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}}",
                "unsupported rope_scaling {\"type\":\"linear\",\"factor\":2.0}: only plain RoPE (rope_scaling null) "
                        + "is implemented");
        cases.put("{" + LLAMA + ",\"hidden_act\":\"gelu\"}",
                "unsupported hidden_act 'gelu': LLaMA's SwiGLU here uses silu");
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
