package io.sparklora.lora;

import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Blas;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Folds an adapter into its base weights and back (LoRA §4.1: "no additional inference latency"): W ← W ± s·B·A for
 * {@code nn.Linear} weights stored (out, in), and W ← W ± s·(B·A)ᵀ for GPT-2's Conv1D weights stored (in, out), as
 * PEFT's {@code merge()}/{@code unmerge()} with {@code fan_in_fan_out}. One GEMM per module, in place. Unmerge
 * restores W up to float rounding (the same add and subtract of one product).
 */
public final class LoraMerge {
    private LoraMerge() {
    }

    /** W ← W + s·B·A for every module of the adapter. Checks every module against the base before changing any. */
    public static void merge(BaseModel base, LoraAdapter adapter) {
        apply(base, adapter, 1f, "merge");
    }

    /** W ← W − s·B·A for every module of the adapter: undoes {@link #merge}. */
    public static void unmerge(BaseModel base, LoraAdapter adapter) {
        apply(base, adapter, -1f, "unmerge");
    }

    private static void apply(BaseModel base, LoraAdapter adapter, float sign, String action) {
        checkFits(base, adapter, action);
        int maxTransposed = 0;
        for (LoraModule m : adapter.modules().values()) {
            if (m.target().layout() == WeightLayout.IN_OUT) {
                maxTransposed = Math.max(maxTransposed, m.rank() * m.target().outFeatures());
            }
        }
        // Blas has no Aᵀ·Bᵀ variant: for Conv1D weights B is transposed once into this buffer, (rank, out).
        FloatBuffer loraBT = maxTransposed == 0 ? null : Tensor.allocate(maxTransposed);
        for (LoraModule m : adapter.modules().values()) {
            LinearModule t = m.target();
            int in = t.inFeatures();
            int out = t.outFeatures();
            int r = m.rank();
            float s = sign * m.scaling();
            FloatBuffer w = base.weight(t.weightKey()).data();
            FloatBuffer a = m.loraA().value().data(); // (rank, in)
            FloatBuffer b = m.loraB().value().data(); // (out, rank)
            if (t.layout() == WeightLayout.OUT_IN) {
                // W (out, in) += s · B (out, rank) · A (rank, in)
                Blas.gemmNN(out, in, r, s, b, 0, r, a, 0, in, 1f, w, 0, in);
            } else {
                for (int o = 0; o < out; o++) {
                    for (int k = 0; k < r; k++) {
                        loraBT.put(k * out + o, b.get(o * r + k));
                    }
                }
                // W (in, out) += s · A (rank, in)ᵀ · Bᵀ (rank, out)
                Blas.gemmTN(in, out, r, s, a, 0, in, loraBT, 0, out, 1f, w, 0, out);
            }
        }
    }

    /** Every module must adapt a linear layer of this base, with the same width and weight layout. */
    static void checkFits(BaseModel base, LoraAdapter adapter, String action) {
        Map<String, LinearModule> byPath = new HashMap<>();
        for (LinearModule m : base.config().linearModules()) {
            byPath.put(m.path(), m);
        }
        String cannot = "Cannot " + action + " adapter into " + base.config().modelType() + " base model: ";
        for (LoraModule m : adapter.modules().values()) {
            LinearModule t = m.target();
            LinearModule b = byPath.get(t.path());
            if (b == null) {
                throw new IllegalArgumentException(cannot + "module " + t.path() + " does not exist in the base");
            }
            if (b.inFeatures() != t.inFeatures() || b.outFeatures() != t.outFeatures() || b.layout() != t.layout()) {
                throw new IllegalArgumentException(cannot + "module " + t.path() + " is (in=" + t.inFeatures() + ", out="
                        + t.outFeatures() + ", " + t.layout() + "), the base has (in=" + b.inFeatures() + ", out="
                        + b.outFeatures() + ", " + b.layout() + ")");
            }
        }
    }
}
