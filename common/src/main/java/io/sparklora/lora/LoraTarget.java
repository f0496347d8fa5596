package io.sparklora.lora;

import io.sparklora.model.LinearModule;

/**
 * One linear layer a {@link LoraConfig} adapts, with the rank and alpha that apply to it after {@code rank_pattern} and
 * {@code alpha_pattern}, and the resulting scaling: α/r, or α/√r with rsLoRA (Kalajdzievski 2023).
 *
 * @param module  the adapted layer
 * @param rank    r of this layer's update
 * @param alpha   lora_alpha of this layer
 * @param scaling the factor on B·A
 */
public record LoraTarget(LinearModule module, int rank, double alpha, double scaling) {
    public LoraTarget {
        int max = Math.min(module.inFeatures(), module.outFeatures());
        if (rank < 1 || rank > max) {
            throw new IllegalArgumentException("Invalid rank " + rank + " for " + module.path()
                    + ": must be between 1 and min(in, out) = " + max);
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("Invalid alpha " + alpha + " for " + module.path() + ": must be > 0");
        }
    }
}
