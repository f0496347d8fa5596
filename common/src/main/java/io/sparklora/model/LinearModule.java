package io.sparklora.model;

/**
 * One linear layer of a base model that LoRA can adapt, named as Hugging Face names it.
 *
 * @param path     module path in the HF model, e.g. {@code model.layers.3.self_attn.q_proj} or
 *                 {@code transformer.h.3.attn.c_attn}; the weight key is {@code path + ".weight"}
 * @param name     the last path component, the name {@code target_modules} matches ({@code q_proj}, {@code c_attn})
 * @param layer    transformer block index, or -1 for a layer outside the blocks (the LM head)
 * @param inFeatures  input width
 * @param outFeatures output width
 * @param layout   how the weight is stored
 * @param hasBias  whether the checkpoint carries {@code path + ".bias"}
 */
public record LinearModule(String path, String name, int layer, int inFeatures, int outFeatures, WeightLayout layout,
                           boolean hasBias) {
    public LinearModule {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Invalid linear module " + path + ": in=" + inFeatures + ", out="
                    + outFeatures);
        }
    }

    public String weightKey() {
        return path + ".weight";
    }

    public String biasKey() {
        return path + ".bias";
    }
}
