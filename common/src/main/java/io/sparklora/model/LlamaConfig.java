package io.sparklora.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Architecture of a Hugging Face LLaMA-architecture causal LM — {@code LlamaForCausalLM}, {@code MistralForCausalLM},
 * {@code Qwen2ForCausalLM}, {@code Qwen3ForCausalLM} ({@link LlamaFamily} says how they differ): RMSNorm,
 * rotate-half RoPE, SwiGLU MLP, grouped-query attention. Field names follow the transformers config classes.
 *
 * @param family                which checkpoint class (model_type, architectures)
 * @param vocabSize             vocab_size
 * @param hiddenSize            hidden_size
 * @param intermediateSize      intermediate_size (SwiGLU width)
 * @param numHiddenLayers       num_hidden_layers
 * @param numAttentionHeads     num_attention_heads
 * @param numKeyValueHeads      num_key_value_heads (divides numAttentionHeads; equal means plain multi-head)
 * @param headDim               head_dim (defaults to hiddenSize / numAttentionHeads; Qwen3's is explicit)
 * @param maxPositionEmbeddings max_position_embeddings
 * @param rmsNormEps            rms_norm_eps (also of Qwen3's q_norm and k_norm)
 * @param ropeTheta             rope_theta
 * @param attentionBias         attention_bias: q/k/v/o projections carry biases (LLaMA, Qwen3)
 * @param mlpBias               mlp_bias: gate/up/down projections carry biases (LLaMA)
 * @param tieWordEmbeddings     tie_word_embeddings: the LM head reuses embed_tokens
 * @param initializerRange      initializer_range (std of the normal init of a fresh model)
 * @param ropeScaling           rope_scaling ({@link RopeScaling#NONE} for plain RoPE)
 * @param slidingWindow         the attention window in effect (Mistral's sliding_window, Qwen's when
 *                              use_sliding_window), 0 when attention is not windowed
 */
public record LlamaConfig(LlamaFamily family, int vocabSize, int hiddenSize, int intermediateSize,
                          int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads, int headDim,
                          int maxPositionEmbeddings, double rmsNormEps, double ropeTheta, boolean attentionBias,
                          boolean mlpBias, boolean tieWordEmbeddings, double initializerRange, RopeScaling ropeScaling,
                          int slidingWindow) implements ModelConfig {
    public LlamaConfig {
        if (family == null) {
            throw new IllegalArgumentException("Invalid model family: null");
        }
        ropeScaling = ropeScaling == null ? RopeScaling.NONE : ropeScaling;
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        atMostMaxLayers("num_hidden_layers", numHiddenLayers);
        fitsInt("num_attention_heads x head_dim", (long) numAttentionHeads * headDim);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("Invalid num_key_value_heads " + numKeyValueHeads
                    + ": must divide num_attention_heads = " + numAttentionHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("Invalid head_dim " + headDim + ": RoPE needs an even head_dim");
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("Invalid rms_norm_eps " + rmsNormEps + ": must be > 0");
        }
        if (!(ropeTheta > 0)) {
            throw new IllegalArgumentException("Invalid rope_theta " + ropeTheta + ": must be > 0");
        }
        if (!(initializerRange >= 0)) {
            throw new IllegalArgumentException("Invalid initializer_range " + initializerRange + ": must be >= 0");
        }
        if (attentionBias && !family.configurableAttentionBias()) {
            throw new IllegalArgumentException("Invalid attention_bias true: a " + family.modelType()
                    + " model has no such option (its attention biases are fixed by the architecture)");
        }
        if (mlpBias && !family.configurableMlpBias()) {
            throw new IllegalArgumentException("Invalid mlp_bias true: a " + family.modelType()
                    + " model has no MLP biases");
        }
        if (slidingWindow < 0 || (slidingWindow > 0 && !family.hasSlidingWindow())) {
            throw new IllegalArgumentException("Invalid sliding_window " + slidingWindow + ": "
                    + (slidingWindow < 0 ? "must be >= 0 (0: none)" : "a " + family.modelType()
                    + " model has no sliding-window attention"));
        }
    }

    /** A plain {@code LlamaForCausalLM}: RoPE without scaling, attention not windowed. */
    public LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                       int numAttentionHeads, int numKeyValueHeads, int headDim, int maxPositionEmbeddings,
                       double rmsNormEps, double ropeTheta, boolean attentionBias, boolean mlpBias,
                       boolean tieWordEmbeddings, double initializerRange) {
        this(LlamaFamily.LLAMA, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, attentionBias, mlpBias,
                tieWordEmbeddings, initializerRange, RopeScaling.NONE, 0);
    }

    /** This architecture as another family's checkpoint (biases the new family cannot have are dropped). */
    public LlamaConfig withFamily(LlamaFamily f) {
        return new LlamaConfig(f, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta,
                attentionBias && f.configurableAttentionBias(), mlpBias && f.configurableMlpBias(), tieWordEmbeddings,
                initializerRange, ropeScaling, f.hasSlidingWindow() ? slidingWindow : 0);
    }

    public LlamaConfig withRopeScaling(RopeScaling scaling) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, attentionBias, mlpBias,
                tieWordEmbeddings, initializerRange, scaling, slidingWindow);
    }

    public LlamaConfig withSlidingWindow(int window) {
        return new LlamaConfig(family, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, attentionBias, mlpBias,
                tieWordEmbeddings, initializerRange, ropeScaling, window);
    }

    /**
     * The most blocks a config may declare: far above any published model (Llama 3.1 405B has 126), low enough that
     * listing a config's modules (7 per block) cannot exhaust memory on a corrupt {@code config.json}.
     */
    public static final int MAX_LAYERS = 4096;

    static void atMostMaxLayers(String field, int value) {
        if (value > MAX_LAYERS) {
            throw new IllegalArgumentException("Invalid " + field + " " + value + ": must be at most " + MAX_LAYERS);
        }
    }

    /** A width derived from two fields must be an int, as every tensor dimension is. */
    static void fitsInt(String what, long value) {
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Invalid " + what + " = " + value + ": must be below 2^31");
        }
    }

    static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("Invalid " + field + " " + value + ": must be > 0");
        }
    }

    @Override
    public String modelType() {
        return family.modelType();
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    /** max_position_embeddings, or the sliding window when smaller: attention beyond it is not implemented. */
    @Override
    public int maxPositions() {
        return slidingWindow > 0 ? Math.min(slidingWindow, maxPositionEmbeddings) : maxPositionEmbeddings;
    }

    @Override
    public String positionLimit() {
        if (slidingWindow > 0 && slidingWindow < maxPositionEmbeddings) {
            return "sliding_window is " + slidingWindow + " and sliding-window attention is not implemented, so "
                    + "sequences may hold at most " + slidingWindow + " tokens";
        }
        return ModelConfig.super.positionLimit();
    }

    /** numAttentionHeads · headDim, the width of q and of the attention output. */
    public int qDim() {
        return numAttentionHeads * headDim;
    }

    /** numKeyValueHeads · headDim, the width of k and v. */
    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    /** Whether q_proj, k_proj and v_proj carry biases (attention_bias, or always for Qwen2). */
    public boolean qkvBias() {
        return attentionBias || family.alwaysQkvBias();
    }

    /** Whether each head of q and k is RMS-normalised (weights {@code self_attn.q_norm}, {@code k_norm}) before RoPE. */
    public boolean qkNorm() {
        return family.qkNorm();
    }

    /** The (headDim / 2) rotary inverse frequencies: rope_theta under rope_scaling. */
    public float[] ropeInverseFrequencies() {
        return ropeScaling.inverseFrequencies(headDim, ropeTheta);
    }

    @Override
    public List<LinearModule> linearModules() {
        List<LinearModule> out = new ArrayList<>(numHiddenLayers * 7);
        for (int l = 0; l < numHiddenLayers; l++) {
            String attn = "model.layers." + l + ".self_attn.";
            String mlp = "model.layers." + l + ".mlp.";
            out.add(linear(attn + "q_proj", l, hiddenSize, qDim(), qkvBias()));
            out.add(linear(attn + "k_proj", l, hiddenSize, kvDim(), qkvBias()));
            out.add(linear(attn + "v_proj", l, hiddenSize, kvDim(), qkvBias()));
            out.add(linear(attn + "o_proj", l, qDim(), hiddenSize, attentionBias));
            out.add(linear(mlp + "gate_proj", l, hiddenSize, intermediateSize, mlpBias));
            out.add(linear(mlp + "up_proj", l, hiddenSize, intermediateSize, mlpBias));
            out.add(linear(mlp + "down_proj", l, intermediateSize, hiddenSize, mlpBias));
        }
        return out;
    }

    private static LinearModule linear(String path, int layer, int in, int out, boolean bias) {
        String name = path.substring(path.lastIndexOf('.') + 1);
        return new LinearModule(path, name, layer, in, out, WeightLayout.OUT_IN, bias);
    }

    @Override
    public Map<String, int[]> weightShapes() {
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new int[] {vocabSize, hiddenSize});
        List<LinearModule> linears = linearModules();
        for (int l = 0; l < numHiddenLayers; l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new int[] {hiddenSize});
            for (LinearModule m : linears) {
                if (m.layer() == l) {
                    s.put(m.weightKey(), new int[] {m.outFeatures(), m.inFeatures()});
                    if (m.hasBias()) {
                        s.put(m.biasKey(), new int[] {m.outFeatures()});
                    }
                }
            }
            if (qkNorm()) {
                s.put(p + "self_attn.q_norm.weight", new int[] {headDim});
                s.put(p + "self_attn.k_norm.weight", new int[] {headDim});
            }
            s.put(p + "post_attention_layernorm.weight", new int[] {hiddenSize});
        }
        s.put("model.norm.weight", new int[] {hiddenSize});
        if (!tieWordEmbeddings) {
            s.put("lm_head.weight", new int[] {vocabSize, hiddenSize});
        }
        return s;
    }

    @Override
    public String lmHeadKey() {
        return tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    }

    @Override
    public String canonicalKey(String stored) {
        if (stored.endsWith(".rotary_emb.inv_freq")) {
            return null; // a buffer recomputed from rope_theta
        }
        if (tieWordEmbeddings && stored.equals("lm_head.weight")) {
            return null; // tied: the head is embed_tokens, whatever copy was saved
        }
        return stored;
    }

    @Override
    public double initStd(String key) {
        return initializerRange;
    }

    @Override
    public List<String> defaultTargetModules() {
        return List.of("q_proj", "v_proj");
    }

    @Override
    public <R> R fold(Function<LlamaConfig, R> llama, Function<Gpt2Config, R> gpt2) {
        return llama.apply(this);
    }

    /** The fields of the family's transformers config class, as from_pretrained reads them. */
    @Override
    public Map<String, Object> toHfConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(family.architecture()));
        c.put("model_type", family.modelType());
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numHiddenLayers);
        c.put("num_attention_heads", numAttentionHeads);
        c.put("num_key_value_heads", numKeyValueHeads);
        c.put("head_dim", headDim); // Qwen2Config has no such field, but Qwen2Attention reads it when present
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        c.put("rope_scaling", ropeScaling.toHfConfig());
        if (family.configurableAttentionBias()) {
            c.put("attention_bias", attentionBias);
        }
        c.put("attention_dropout", 0.0);
        if (family.configurableMlpBias()) {
            c.put("mlp_bias", mlpBias);
        }
        if (family == LlamaFamily.MISTRAL) {
            c.put("sliding_window", slidingWindow > 0 ? slidingWindow : null);
        } else if (family.hasSlidingWindow()) {
            c.put("use_sliding_window", slidingWindow > 0);
            c.put("sliding_window", slidingWindow > 0 ? slidingWindow : null);
            c.put("max_window_layers", slidingWindow > 0 ? 0 : numHiddenLayers); // layers >= it are windowed
        }
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", tieWordEmbeddings);
        c.put("initializer_range", initializerRange);
        c.put("torch_dtype", "float32");
        c.put("bos_token_id", null);
        c.put("eos_token_id", null);
        c.put("use_cache", true);
        return c;
    }
}
