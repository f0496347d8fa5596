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
 * Parses a Hugging Face {@code config.json} into {@link LlamaConfig} (LLaMA, Mistral, Qwen2, Qwen3) or
 * {@link Gpt2Config}, filling absent fields with the defaults of the transformers config class of its model_type
 * ({@code LlamaConfig}, {@code MistralConfig}, {@code Qwen2Config}, {@code Qwen3Config}, {@code GPT2Config}), and refusing every setting whose effect our
 * implementations do not reproduce (rather than silently computing a different model).
 */
final class HfConfigReader {
    private static final String GPT2 = "gpt2";
    private static final String GPT2_ARCHITECTURE = "GPT2LMHeadModel";
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
        String modelType = r.modelType();
        try {
            return modelType.equals(GPT2) ? r.gpt2() : r.llama(LlamaFamily.ofModelType(modelType));
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

    /** model_type values this reader knows, in messages. */
    private static String supportedModelTypes() {
        StringBuilder s = new StringBuilder();
        for (LlamaFamily f : LlamaFamily.values()) {
            s.append(f.modelType()).append(", ");
        }
        return s.append(GPT2).toString();
    }

    private static String supportedArchitectures() {
        StringBuilder s = new StringBuilder();
        for (LlamaFamily f : LlamaFamily.values()) {
            s.append(f.architecture()).append(", ");
        }
        return s.append(GPT2_ARCHITECTURE).toString();
    }

    /** The model_type, from model_type and/or architectures, which must agree. */
    private String modelType() {
        String modelType = string("model_type", null);
        if (modelType != null && !modelType.equals(GPT2) && LlamaFamily.ofModelType(modelType) == null) {
            throw fail("unsupported model_type '" + modelType + "' (supported: " + supportedModelTypes() + ")");
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
                LlamaFamily family = LlamaFamily.ofArchitecture(a);
                String f = family != null ? family.modelType() : a.equals(GPT2_ARCHITECTURE) ? GPT2 : null;
                if (f == null) {
                    throw fail("unsupported architecture '" + a + "' (supported: " + supportedArchitectures() + ")");
                }
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

    private LlamaConfig llama(LlamaFamily family) {
        String act = string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw fail("unsupported hidden_act '" + act + "': the SwiGLU MLP here uses silu");
        }
        double partialRotary = number("partial_rotary_factor", 1.0);
        if (partialRotary != 1.0) {
            throw fail("unsupported partial_rotary_factor " + partialRotary + ": RoPE rotates the whole head");
        }
        double ropeTheta = number("rope_theta", 10000.0);
        RopeScaling scaling = RopeScaling.fromConfig("rope_scaling", present("rope_scaling"));
        JsonNode params = present("rope_parameters"); // transformers 5 moves rope_theta and the scaling here
        if (params != null) {
            if (!params.isObject()) {
                throw fail("field 'rope_parameters' must be an object, got " + params);
            }
            JsonNode theta = params.get("rope_theta");
            if (theta != null && !theta.isNull()) {
                if (!theta.isNumber()) {
                    throw fail("field 'rope_parameters.rope_theta' must be a number, got " + theta);
                }
                ropeTheta = theta.doubleValue();
            }
            RopeScaling fromParams = RopeScaling.fromConfig("rope_parameters", params);
            if (!scaling.equals(RopeScaling.NONE) && !scaling.equals(fromParams)) {
                throw fail("rope_scaling " + root.get("rope_scaling") + " contradicts rope_parameters " + params);
            }
            scaling = fromParams;
        }
        int hidden = requiredInt("hidden_size");
        int heads = requiredInt("num_attention_heads");
        JsonNode headDimNode = present("head_dim");
        int defaultHeadDim = family == LlamaFamily.QWEN3 ? 128 : heads > 0 ? hidden / heads : 0; // Qwen3Config: 128
        if (headDimNode == null && family != LlamaFamily.QWEN3 && heads > 0 && hidden % heads != 0) {
            throw fail("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads
                    + " and no head_dim is given");
        }
        int layers = requiredInt("num_hidden_layers");
        // the config classes' defaults: LlamaConfig None (= heads), MistralConfig 8, Qwen2Config/Qwen3Config 32
        int defaultKvHeads = switch (family) {
            case LLAMA -> heads;
            case MISTRAL -> 8;
            case QWEN2, QWEN3 -> 32;
        };
        return new LlamaConfig(family, requiredInt("vocab_size"), hidden, requiredInt("intermediate_size"), layers,
                heads, integer("num_key_value_heads", defaultKvHeads), integer("head_dim", defaultHeadDim),
                integer("max_position_embeddings", family.defaultMaxPositions()), number("rms_norm_eps", 1e-6),
                ropeTheta, family.configurableAttentionBias() && bool("attention_bias", false),
                family.configurableMlpBias() && bool("mlp_bias", false), bool("tie_word_embeddings", false),
                number("initializer_range", 0.02), scaling, slidingWindow(family, layers));
    }

    /**
     * The attention window in effect, 0 for none. Mistral: sliding_window (MistralConfig's default 4096; null: none).
     * Qwen2/Qwen3: layer_types naming a "sliding_attention" layer, or else use_sliding_window with
     * max_window_layers below the layer count (layers from it on are windowed).
     */
    private int slidingWindow(LlamaFamily family, int layers) {
        if (!family.hasSlidingWindow()) {
            return 0;
        }
        JsonNode window = root.get("sliding_window");
        if (family == LlamaFamily.MISTRAL) {
            return window == null ? 4096 : window.isNull() ? 0 : integer("sliding_window", 0);
        }
        boolean windowed;
        JsonNode layerTypes = present("layer_types");
        if (layerTypes != null) {
            if (!layerTypes.isArray()) {
                throw fail("field 'layer_types' must be a list of strings, got " + layerTypes);
            }
            windowed = false;
            for (JsonNode t : layerTypes) {
                String type = t.asText();
                if (!type.equals("full_attention") && !type.equals("sliding_attention")) {
                    throw fail("unsupported layer type '" + type + "' in layer_types (supported: full_attention, "
                            + "sliding_attention)");
                }
                windowed |= type.equals("sliding_attention");
            }
        } else {
            windowed = bool("use_sliding_window", false) && integer("max_window_layers", 28) < layers;
        }
        return !windowed ? 0 : window == null ? 4096 : window.isNull() ? 0 : integer("sliding_window", 0);
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
