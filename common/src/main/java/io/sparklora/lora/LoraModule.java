package io.sparklora.lora;

import io.sparklora.model.LinearModule;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;

/**
 * The LoRA update of one linear layer (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"):
 * {@code y = base(x) + scaling · B·A·dropout(x)}, with A (rank, in), B (out, rank), as PEFT's {@code lora.Linear}.
 * A's and B's keys are PEFT's: {@code base_model.model.<path>.lora_A.weight}, {@code ...lora_B.weight}.
 */
public final class LoraModule {
    private final LinearModule target;
    private final int rank;
    private final float alpha;
    private final float scaling; // alpha / rank, or alpha / sqrt(rank) with rsLoRA
    private final float dropout; // probability of zeroing an input element of the LoRA branch
    private final Parameter loraA; // (rank, inFeatures)
    private final Parameter loraB; // (outFeatures, rank)

    public LoraModule(LinearModule target, int rank, float alpha, float scaling, float dropout, Tensor loraA,
                      Tensor loraB) {
        if (rank <= 0 || rank > Math.min(target.inFeatures(), target.outFeatures())) {
            throw new IllegalArgumentException("Invalid rank " + rank + " for " + target.path()
                    + ": must be between 1 and min(in, out) = " + Math.min(target.inFeatures(), target.outFeatures()));
        }
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("Invalid lora_dropout " + dropout + " for " + target.path()
                    + ": must be in [0, 1)");
        }
        checkShape(target, "lora_A", loraA, rank, target.inFeatures());
        checkShape(target, "lora_B", loraB, target.outFeatures(), rank);
        this.target = target;
        this.rank = rank;
        this.alpha = alpha;
        this.scaling = scaling;
        this.dropout = dropout;
        this.loraA = Parameter.of(peftKey(target, "lora_A"), loraA);
        this.loraB = Parameter.of(peftKey(target, "lora_B"), loraB);
    }

    private static void checkShape(LinearModule target, String which, Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
            throw new IllegalArgumentException("Invalid " + which + " for " + target.path() + ": shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected [" + rows + ", " + cols + "]");
        }
    }

    /** PEFT's saved key for A or B of a module: {@code base_model.model.<path>.<which>.weight}. */
    public static String peftKey(LinearModule target, String which) {
        return "base_model.model." + target.path() + "." + which + ".weight";
    }

    public LinearModule target() {
        return target;
    }

    public int rank() {
        return rank;
    }

    public float alpha() {
        return alpha;
    }

    public float scaling() {
        return scaling;
    }

    public float dropout() {
        return dropout;
    }

    /** A, (rank, inFeatures), and its gradient. */
    public Parameter loraA() {
        return loraA;
    }

    /** B, (outFeatures, rank), and its gradient. */
    public Parameter loraB() {
        return loraB;
    }
}
