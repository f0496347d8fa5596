package io.sparklora.model;

import java.util.Locale;

/**
 * The checkpoints that share LLaMA's block (RMSNorm, rotate-half RoPE, SwiGLU, grouped-query attention) and differ in
 * a few structural details, each named after the Hugging Face class that defines it. What differs is said here once;
 * the model code asks {@link LlamaConfig} for the detail (a bias, a norm), never for the family's name.
 */
public enum LlamaFamily {
    /** {@code LlamaForCausalLM}: optional attention_bias (q, k, v, o) and mlp_bias. SmolLM, TinyLlama. */
    LLAMA("LlamaForCausalLM", 2048, false, false, true, true),
    /** {@code MistralForCausalLM}: no biases; sliding-window attention (refused beyond the window). */
    MISTRAL("MistralForCausalLM", 4096 * 32, false, false, false, false),
    /** {@code Qwen2ForCausalLM} (Qwen2, Qwen2.5): q, k and v always carry biases, o does not. */
    QWEN2("Qwen2ForCausalLM", 32768, true, false, false, false),
    /** {@code Qwen3ForCausalLM}: RMSNorm over each head of q and of k before RoPE; optional attention_bias. */
    QWEN3("Qwen3ForCausalLM", 32768, false, true, true, false);

    private final String architecture;
    private final int defaultMaxPositions;
    private final boolean qkvBias;
    private final boolean qkNorm;
    private final boolean configurableAttentionBias;
    private final boolean configurableMlpBias;

    LlamaFamily(String architecture, int defaultMaxPositions, boolean qkvBias, boolean qkNorm,
                boolean configurableAttentionBias, boolean configurableMlpBias) {
        this.architecture = architecture;
        this.defaultMaxPositions = defaultMaxPositions;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.configurableAttentionBias = configurableAttentionBias;
        this.configurableMlpBias = configurableMlpBias;
    }

    /** config.json's {@code model_type}: llama, mistral, qwen2, qwen3. */
    public String modelType() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** config.json's {@code architectures} entry. */
    public String architecture() {
        return architecture;
    }

    /** max_position_embeddings when config.json omits it (the transformers config class's default). */
    public int defaultMaxPositions() {
        return defaultMaxPositions;
    }

    /** Whether q_proj, k_proj and v_proj carry biases whatever attention_bias says (Qwen2). */
    public boolean alwaysQkvBias() {
        return qkvBias;
    }

    /** Whether each head of q and of k is RMS-normalised before RoPE (Qwen3's q_norm, k_norm). */
    public boolean qkNorm() {
        return qkNorm;
    }

    /** Whether the family's config has an {@code attention_bias} field (else attention biases are fixed). */
    public boolean configurableAttentionBias() {
        return configurableAttentionBias;
    }

    /** Whether the family's config has an {@code mlp_bias} field (else the MLP has no biases). */
    public boolean configurableMlpBias() {
        return configurableMlpBias;
    }

    /** Whether sliding-window attention exists in this family (Mistral's sliding_window, Qwen's use_sliding_window). */
    public boolean hasSlidingWindow() {
        return this != LLAMA;
    }

    /** The family whose model_type is {@code modelType}, or null. */
    public static LlamaFamily ofModelType(String modelType) {
        for (LlamaFamily f : values()) {
            if (f.modelType().equals(modelType)) {
                return f;
            }
        }
        return null;
    }

    /** The family whose architectures entry is {@code architecture}, or null. */
    public static LlamaFamily ofArchitecture(String architecture) {
        for (LlamaFamily f : values()) {
            if (f.architecture.equals(architecture)) {
                return f;
            }
        }
        return null;
    }
}
