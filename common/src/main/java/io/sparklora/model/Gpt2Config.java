package io.sparklora.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Architecture of a Hugging Face {@code GPT2LMHeadModel}: pre-LayerNorm blocks, learned positions, Conv1D weights
 * stored (in, out), fused q/k/v in {@code c_attn}, {@code gelu_new} (tanh) MLP, LM head tied to {@code wte}.
 *
 * @param vocabSize        vocab_size
 * @param hiddenSize       n_embd
 * @param numLayers        n_layer
 * @param numHeads         n_head (divides n_embd)
 * @param maxPositions     n_positions
 * @param innerSize        n_inner (null in config.json means 4 · n_embd)
 * @param layerNormEpsilon layer_norm_epsilon
 * @param initializerRange initializer_range
 */
public record Gpt2Config(int vocabSize, int hiddenSize, int numLayers, int numHeads, int maxPositions, int innerSize,
                         double layerNormEpsilon, double initializerRange) implements ModelConfig {
    /** Canonical key prefix; GPT2LMHeadModel checkpoints carry it, GPT2Model checkpoints do not. */
    public static final String PREFIX = "transformer.";
    /** GPT-2 attention's causal-mask buffers, saved by old transformers versions; not weights. */
    private static final Pattern MASK_BUFFER = Pattern.compile("transformer\\.h\\.\\d+\\.attn\\.(bias|masked_bias)");

    public Gpt2Config {
        LlamaConfig.positive("vocab_size", vocabSize);
        LlamaConfig.positive("n_embd", hiddenSize);
        LlamaConfig.positive("n_layer", numLayers);
        LlamaConfig.positive("n_head", numHeads);
        LlamaConfig.positive("n_positions", maxPositions);
        LlamaConfig.positive("n_inner", innerSize);
        LlamaConfig.atMostMaxLayers("n_layer", numLayers);
        LlamaConfig.fitsInt("3 x n_embd (the width of c_attn)", 3L * hiddenSize);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("Invalid n_head " + numHeads + ": must divide n_embd = " + hiddenSize);
        }
        if (!(layerNormEpsilon > 0)) {
            throw new IllegalArgumentException("Invalid layer_norm_epsilon " + layerNormEpsilon + ": must be > 0");
        }
        if (!(initializerRange >= 0)) {
            throw new IllegalArgumentException("Invalid initializer_range " + initializerRange + ": must be >= 0");
        }
    }

    @Override
    public String modelType() {
        return "gpt2";
    }

    @Override
    public String positionLimit() {
        return "n_positions is " + maxPositions;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public List<LinearModule> linearModules() {
        List<LinearModule> out = new ArrayList<>(numLayers * 4);
        for (int l = 0; l < numLayers; l++) {
            String p = PREFIX + "h." + l + ".";
            out.add(conv1d(p + "attn.c_attn", l, hiddenSize, 3 * hiddenSize));
            out.add(conv1d(p + "attn.c_proj", l, hiddenSize, hiddenSize));
            out.add(conv1d(p + "mlp.c_fc", l, hiddenSize, innerSize));
            out.add(conv1d(p + "mlp.c_proj", l, innerSize, hiddenSize));
        }
        return out;
    }

    private static LinearModule conv1d(String path, int layer, int in, int out) {
        String name = path.substring(path.lastIndexOf('.') + 1);
        return new LinearModule(path, name, layer, in, out, WeightLayout.IN_OUT, true);
    }

    @Override
    public Map<String, int[]> weightShapes() {
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put(PREFIX + "wte.weight", new int[] {vocabSize, hiddenSize});
        s.put(PREFIX + "wpe.weight", new int[] {maxPositions, hiddenSize});
        for (int l = 0; l < numLayers; l++) {
            String p = PREFIX + "h." + l + ".";
            s.put(p + "ln_1.weight", new int[] {hiddenSize});
            s.put(p + "ln_1.bias", new int[] {hiddenSize});
            conv1d(s, p + "attn.c_attn", hiddenSize, 3 * hiddenSize);
            conv1d(s, p + "attn.c_proj", hiddenSize, hiddenSize);
            s.put(p + "ln_2.weight", new int[] {hiddenSize});
            s.put(p + "ln_2.bias", new int[] {hiddenSize});
            conv1d(s, p + "mlp.c_fc", hiddenSize, innerSize);
            conv1d(s, p + "mlp.c_proj", innerSize, hiddenSize);
        }
        s.put(PREFIX + "ln_f.weight", new int[] {hiddenSize});
        s.put(PREFIX + "ln_f.bias", new int[] {hiddenSize});
        return s;
    }

    /** A Conv1D's weight (in, out) and bias (out). */
    private static void conv1d(Map<String, int[]> s, String path, int in, int out) {
        s.put(path + ".weight", new int[] {in, out});
        s.put(path + ".bias", new int[] {out});
    }

    @Override
    public String lmHeadKey() {
        return PREFIX + "wte.weight";
    }

    /** GPT2LMHeadModel saves "transformer.h.0…", GPT2Model "h.0…"; attention mask buffers and a head copy are no weights. */
    @Override
    public String canonicalKey(String stored) {
        if (stored.equals("lm_head.weight")) {
            return null; // GPT-2's head is always tied to wte; some checkpoints still store a copy
        }
        String key = stored.startsWith(PREFIX) ? stored : PREFIX + stored;
        return MASK_BUFFER.matcher(key).matches() ? null : key;
    }

    /** Every c_proj.weight: std initializer_range / sqrt(2 · n_layer) (GPT-2 paper §2.3: residual-path scaling). */
    @Override
    public double initStd(String key) {
        return key.endsWith(".c_proj.weight") ? initializerRange / Math.sqrt(2.0 * numLayers) : initializerRange;
    }

    @Override
    public List<String> defaultTargetModules() {
        return List.of("c_attn");
    }

    @Override
    public <R> R fold(Function<LlamaConfig, R> llama, Function<Gpt2Config, R> gpt2) {
        return gpt2.apply(this);
    }

    @Override
    public Map<String, Object> toHfConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("GPT2LMHeadModel"));
        c.put("model_type", "gpt2");
        c.put("vocab_size", vocabSize);
        c.put("n_embd", hiddenSize);
        c.put("n_layer", numLayers);
        c.put("n_head", numHeads);
        c.put("n_positions", maxPositions);
        c.put("n_ctx", maxPositions);
        c.put("n_inner", innerSize);
        c.put("activation_function", "gelu_new");
        c.put("layer_norm_epsilon", layerNormEpsilon);
        c.put("initializer_range", initializerRange);
        c.put("resid_pdrop", 0.0);
        c.put("embd_pdrop", 0.0);
        c.put("attn_pdrop", 0.0);
        c.put("scale_attn_weights", true);
        c.put("tie_word_embeddings", true);
        c.put("torch_dtype", "float32");
        c.put("bos_token_id", null);
        c.put("eos_token_id", null);
        c.put("use_cache", true);
        return c;
    }
}
