package io.sparklora.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Architecture of a Hugging Face {@code LlamaForCausalLM}: RMSNorm, rotate-half RoPE, SwiGLU MLP, grouped-query
 * attention. Field names follow {@code LlamaConfig} in transformers.
 *
 * @param vocabSize             vocab_size
 * @param hiddenSize            hidden_size
 * @param intermediateSize      intermediate_size (SwiGLU width)
 * @param numHiddenLayers       num_hidden_layers
 * @param numAttentionHeads     num_attention_heads
 * @param numKeyValueHeads      num_key_value_heads (divides numAttentionHeads; equal means plain multi-head)
 * @param headDim               head_dim (defaults to hiddenSize / numAttentionHeads)
 * @param maxPositionEmbeddings max_position_embeddings
 * @param rmsNormEps            rms_norm_eps
 * @param ropeTheta             rope_theta
 * @param attentionBias         attention_bias: q/k/v/o projections carry biases
 * @param mlpBias               mlp_bias: gate/up/down projections carry biases
 * @param tieWordEmbeddings     tie_word_embeddings: the LM head reuses embed_tokens
 * @param initializerRange      initializer_range (std of the normal init of a fresh model)
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, int headDim, int maxPositionEmbeddings,
                          double rmsNormEps, double ropeTheta, boolean attentionBias, boolean mlpBias,
                          boolean tieWordEmbeddings, double initializerRange) implements ModelConfig {
    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
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
    }

    static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("Invalid " + field + " " + value + ": must be > 0");
        }
    }

    @Override
    public String modelType() {
        return "llama";
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    @Override
    public int maxPositions() {
        return maxPositionEmbeddings;
    }

    /** numAttentionHeads · headDim, the width of q and of the attention output. */
    public int qDim() {
        return numAttentionHeads * headDim;
    }

    /** numKeyValueHeads · headDim, the width of k and v. */
    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public List<LinearModule> linearModules() {
        List<LinearModule> out = new ArrayList<>(numHiddenLayers * 7);
        for (int l = 0; l < numHiddenLayers; l++) {
            String attn = "model.layers." + l + ".self_attn.";
            String mlp = "model.layers." + l + ".mlp.";
            out.add(linear(attn + "q_proj", l, hiddenSize, qDim(), attentionBias));
            out.add(linear(attn + "k_proj", l, hiddenSize, kvDim(), attentionBias));
            out.add(linear(attn + "v_proj", l, hiddenSize, kvDim(), attentionBias));
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
        for (int l = 0; l < numHiddenLayers; l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new int[] {hiddenSize});
            for (LinearModule m : linearModules().subList(l * 7, l * 7 + 7)) {
                s.put(m.weightKey(), new int[] {m.outFeatures(), m.inFeatures()});
                if (m.hasBias()) {
                    s.put(m.biasKey(), new int[] {m.outFeatures()});
                }
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
    public Map<String, Object> toHfConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numHiddenLayers);
        c.put("num_attention_heads", numAttentionHeads);
        c.put("num_key_value_heads", numKeyValueHeads);
        c.put("head_dim", headDim);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        c.put("rope_scaling", null);
        c.put("attention_bias", attentionBias);
        c.put("attention_dropout", 0.0);
        c.put("mlp_bias", mlpBias);
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
