package io.sparklora.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code rope_scaling} of a LLaMA-architecture {@code config.json}: how the rotary frequencies
 * {@code inv_freq_i = θ^(−2i/d)} are stretched for contexts longer than pre-training's. The types transformers'
 * {@code ROPE_INIT_FUNCTIONS} computes statically and without an attention factor are implemented:
 * <ul>
 *   <li>{@code default}: plain RoPE ({@link #NONE}).</li>
 *   <li>{@code linear} (Chen et al. 2023, "Position Interpolation"): every frequency divided by {@code factor}.</li>
 *   <li>{@code llama3} (Llama 3.1): wavelengths longer than {@code original_max_position_embeddings /
 *       low_freq_factor} divided by {@code factor}, shorter than {@code … / high_freq_factor} kept, and a smooth
 *       interpolation between.</li>
 * </ul>
 * {@code dynamic} (NTK, recomputed per call from the longest position seen, so stateful in transformers) and
 * {@code yarn} (with its attention factor) are refused by name when the config is read.
 *
 * @param type                 the rope_type
 * @param factor               factor (1 for DEFAULT)
 * @param lowFreqFactor        llama3 low_freq_factor (0 otherwise)
 * @param highFreqFactor       llama3 high_freq_factor (0 otherwise)
 * @param originalMaxPositions llama3 original_max_position_embeddings (0 otherwise)
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions) {
    /** The rope_type values implemented, spelled as config.json spells them. */
    public enum Type { DEFAULT, LINEAR, LLAMA3 }

    /** Plain RoPE: rope_scaling null. */
    public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, 1, 0, 0, 0);

    public RopeScaling {
        if (type == null) {
            throw new IllegalArgumentException("Invalid rope_scaling: rope_type is missing");
        }
        if (!(factor >= 1)) {
            throw new IllegalArgumentException("Invalid rope_scaling factor " + factor + ": must be >= 1");
        }
        if (type == Type.LLAMA3) {
            if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("Invalid rope_scaling low_freq_factor " + lowFreqFactor
                        + ", high_freq_factor " + highFreqFactor + ": need 0 < low_freq_factor < high_freq_factor");
            }
            if (originalMaxPositions <= 0) {
                throw new IllegalArgumentException("Invalid rope_scaling original_max_position_embeddings "
                        + originalMaxPositions + ": must be > 0");
            }
        }
    }

    /** Position interpolation: inv_freq / factor. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }

    /** Llama 3.1's frequency-dependent scaling. */
    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor,
                                     int originalMaxPositions) {
        return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
    }

    /**
     * Reads a rope_scaling (or transformers 5 rope_parameters) object: its rope_type (or legacy type) chooses the
     * rule; absent or null is plain RoPE; types not implemented are refused by name. Errors are
     * IllegalArgumentExceptions whose message is the reason ({@code field} names the config field).
     */
    public static RopeScaling fromConfig(String field, JsonNode node) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("field '" + field + "' must be an object or null, got " + node);
        }
        JsonNode ropeType = node.get("rope_type");
        JsonNode legacyType = node.get("type");
        if (ropeType != null && legacyType != null && !ropeType.asText().equals(legacyType.asText())) {
            throw new IllegalArgumentException(field + " " + node + " has both rope_type and type, and they differ");
        }
        JsonNode typeNode = ropeType != null ? ropeType : legacyType;
        String type = typeNode == null || typeNode.isNull() ? "default" : typeNode.asText();
        String implemented = " (implemented: default, linear, llama3)";
        switch (type) {
            case "default":
                return NONE;
            case "linear":
                return validated(field, node, () -> linear(number(field, node, "factor")));
            case "llama3":
                return validated(field, node, () -> llama3(number(field, node, "factor"),
                        number(field, node, "low_freq_factor"), number(field, node, "high_freq_factor"),
                        (int) number(field, node, "original_max_position_embeddings")));
            case "dynamic":
                throw new IllegalArgumentException("unsupported " + field + " type 'dynamic': dynamic NTK scaling is "
                        + "not implemented" + implemented);
            case "yarn":
                throw new IllegalArgumentException("unsupported " + field + " type 'yarn': YaRN is not implemented"
                        + implemented);
            default:
                throw new IllegalArgumentException("unsupported " + field + " type '" + type + "'" + implemented);
        }
    }

    /** Builds a scaling, appending where its values came from to a validation message. */
    private static RopeScaling validated(String field, JsonNode node, java.util.function.Supplier<RopeScaling> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith("Invalid ")) {
                throw new IllegalArgumentException(e.getMessage() + " in " + field + " " + node, e);
            }
            throw e;
        }
    }

    private static double number(String field, JsonNode node, String name) {
        JsonNode n = node.get(name);
        if (n == null || !n.isNumber()) {
            throw new IllegalArgumentException(field + " " + node + ": '" + name + "' must be a number");
        }
        return n.doubleValue();
    }

    /**
     * The (headDim / 2) inverse frequencies, in float32 step by step as transformers computes them:
     * {@code 1 / θ^(arange(0, d, 2) / d)}, then this scaling.
     */
    public float[] inverseFrequencies(int headDim, double theta) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            inv[i] = 1f / (float) Math.pow((float) theta, (float) (2 * i) / headDim);
        }
        switch (type) {
            case DEFAULT -> {
            }
            case LINEAR -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = inv[i] / (float) factor;
                }
            }
            case LLAMA3 -> {
                // _compute_llama3_parameters: wavelen = 2π / inv_freq against the two cut-off wavelengths
                float f = (float) factor;
                float lowWavelen = (float) (originalMaxPositions / lowFreqFactor);
                float highWavelen = (float) (originalMaxPositions / highFreqFactor);
                for (int i = 0; i < half; i++) {
                    float wavelen = (float) (2 * Math.PI) / inv[i];
                    float scaled = wavelen > lowWavelen ? inv[i] / f : inv[i];
                    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                        float smooth = (float) ((originalMaxPositions / wavelen - lowFreqFactor)
                                / (highFreqFactor - lowFreqFactor));
                        scaled = (1 - smooth) * scaled / f + smooth * scaled;
                    }
                    inv[i] = scaled;
                }
            }
        }
        return inv;
    }

    /** The config.json value: null for plain RoPE, else the object transformers reads. */
    public Map<String, Object> toHfConfig() {
        if (type == Type.DEFAULT) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rope_type", type.name().toLowerCase(java.util.Locale.ROOT));
        m.put("factor", factor);
        if (type == Type.LLAMA3) {
            m.put("low_freq_factor", lowFreqFactor);
            m.put("high_freq_factor", highFreqFactor);
            m.put("original_max_position_embeddings", originalMaxPositions);
        }
        return m;
    }
}
