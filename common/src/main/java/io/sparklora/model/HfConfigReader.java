package io.sparklora.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.util.StrictJson;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a Hugging Face {@code config.json} into {@link LlamaConfig} or {@link Gpt2Config}, filling absent fields with
 * the defaults of transformers' {@code LlamaConfig} / {@code GPT2Config}, and refusing every setting whose effect our
 * implementations do not reproduce (rather than silently computing a different model).
 */
final class HfConfigReader {
    private final String file; // for messages
    private final JsonNode root;

    private HfConfigReader(String file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** Reads {@code dir/config.json}; content errors are IllegalArgumentException, I/O errors UncheckedIOException. */
    static ModelConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        JsonNode root;
        try {
            root = StrictJson.MAPPER.readTree(file.toFile());
        } catch (FileNotFoundException | NoSuchFileException e) {
            throw new UncheckedIOException("Cannot read model config " + file + ": no such file", e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot read model config " + file + ": not valid JSON: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read model config " + file + ": " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /**
     * Parses the text of a config.json read elsewhere (a Hadoop file system, a broadcast); {@code file} names it in
     * messages. Errors are IllegalArgumentException.
     */
    static ModelConfig parse(String json, String file) {
        JsonNode root;
        try {
            root = StrictJson.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot read model config " + file + ": not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        return parse(root, file);
    }

    private static ModelConfig parse(JsonNode root, String file) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("Cannot read model config " + file + ": not a JSON object");
        }
        HfConfigReader r = new HfConfigReader(file, root);
        String family = r.family();
        try {
            return family.equals("llama") ? r.llama() : r.gpt2();
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Cannot read model config")) {
                throw e;
            }
            throw r.fail(e.getMessage()); // a record's validation message, e.g. "Invalid n_head 5: must divide …"
        }
    }

    private IllegalArgumentException fail(String reason) {
        return new IllegalArgumentException("Cannot read model config " + file + ": " + reason);
    }

    /** "llama" or "gpt2", from model_type and/or architectures, which must agree. */
    private String family() {
        String modelType = string("model_type", null);
        if (modelType != null && !modelType.equals("llama") && !modelType.equals("gpt2")) {
            throw fail("unsupported model_type '" + modelType + "' (supported: llama, gpt2)");
        }
        String fromArchitectures = null;
        JsonNode archs = root.get("architectures");
        if (archs != null && !archs.isNull()) {
            if (!archs.isArray()) {
                throw fail("architectures must be a list of strings, got " + archs);
            }
            List<String> names = new ArrayList<>();
            archs.forEach(a -> names.add(a.isTextual() ? a.textValue() : a.toString()));
            for (String a : names) {
                String f = switch (a) {
                    case "LlamaForCausalLM" -> "llama";
                    case "GPT2LMHeadModel" -> "gpt2";
                    default -> throw fail("unsupported architecture '" + a
                            + "' (supported: LlamaForCausalLM, GPT2LMHeadModel)");
                };
                if (fromArchitectures != null && !fromArchitectures.equals(f)) {
                    throw fail("architectures " + names + " mix model families");
                }
                fromArchitectures = f;
            }
        }
        if (modelType != null && fromArchitectures != null && !modelType.equals(fromArchitectures)) {
            throw fail("model_type '" + modelType + "' contradicts architectures " + archs);
        }
        if (modelType == null && fromArchitectures == null) {
            throw fail("neither model_type nor architectures says which model this is");
        }
        return modelType != null ? modelType : fromArchitectures;
    }

    private LlamaConfig llama() {
        String act = string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw fail("unsupported hidden_act '" + act + "': LLaMA's SwiGLU here uses silu");
        }
        JsonNode scaling = root.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw fail("unsupported rope_scaling " + scaling + ": only plain RoPE (rope_scaling null) is implemented");
        }
        double ropeTheta = number("rope_theta", 10000.0);
        JsonNode params = root.get("rope_parameters"); // transformers 5 moves rope_theta here
        if (params != null && !params.isNull()) {
            JsonNode type = params.get("rope_type");
            if (!params.isObject() || (type != null && !"default".equals(type.asText()))) {
                throw fail("unsupported rope_parameters " + params + ": only rope_type 'default' is implemented");
            }
            JsonNode theta = params.get("rope_theta");
            if (theta != null && !theta.isNull()) {
                if (!theta.isNumber()) {
                    throw fail("field 'rope_parameters.rope_theta' must be a number, got " + theta);
                }
                ropeTheta = theta.doubleValue();
            }
        }
        int hidden = requiredInt("hidden_size");
        int heads = requiredInt("num_attention_heads");
        JsonNode headDimNode = root.get("head_dim");
        if ((headDimNode == null || headDimNode.isNull()) && heads > 0 && hidden % heads != 0) {
            throw fail("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads
                    + " and no head_dim is given");
        }
        int headDim = integer("head_dim", heads > 0 ? hidden / heads : 0);
        return new LlamaConfig(requiredInt("vocab_size"), hidden, requiredInt("intermediate_size"),
                requiredInt("num_hidden_layers"), heads, integer("num_key_value_heads", heads), headDim,
                integer("max_position_embeddings", 2048), number("rms_norm_eps", 1e-6), ropeTheta,
                bool("attention_bias", false), bool("mlp_bias", false), bool("tie_word_embeddings", false),
                number("initializer_range", 0.02));
    }

    private Gpt2Config gpt2() {
        String act = string("activation_function", "gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw fail("unsupported activation_function '" + act + "' (supported: gelu_new, gelu_pytorch_tanh)");
        }
        if (!bool("scale_attn_weights", true)) {
            throw fail("unsupported scale_attn_weights false: attention scores are always divided by sqrt(head_dim)");
        }
        if (bool("scale_attn_by_inverse_layer_idx", false)) {
            throw fail("unsupported scale_attn_by_inverse_layer_idx true");
        }
        if (bool("reorder_and_upcast_attn", false)) {
            throw fail("unsupported reorder_and_upcast_attn true");
        }
        if (!bool("tie_word_embeddings", true)) {
            throw fail("unsupported tie_word_embeddings false: the GPT-2 LM head is always tied to wte");
        }
        int hidden = requiredInt("n_embd");
        return new Gpt2Config(requiredInt("vocab_size"), hidden, requiredInt("n_layer"), requiredInt("n_head"),
                integer("n_positions", 1024), integer("n_inner", 4 * hidden), number("layer_norm_epsilon", 1e-5),
                number("initializer_range", 0.02));
    }

    private JsonNode present(String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n;
    }

    private int requiredInt(String field) {
        if (present(field) == null) {
            throw fail("missing field '" + field + "'");
        }
        return integer(field, 0);
    }

    private int integer(String field, int fallback) {
        JsonNode n = present(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw fail("field '" + field + "' must be an integer, got " + n);
        }
        return n.intValue();
    }

    private double number(String field, double fallback) {
        JsonNode n = present(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw fail("field '" + field + "' must be a number, got " + n);
        }
        return n.doubleValue();
    }

    private boolean bool(String field, boolean fallback) {
        JsonNode n = present(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw fail("field '" + field + "' must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    private String string(String field, String fallback) {
        JsonNode n = present(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw fail("field '" + field + "' must be a string, got " + n);
        }
        return n.textValue();
    }
}
