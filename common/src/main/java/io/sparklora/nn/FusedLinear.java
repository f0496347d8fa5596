package io.sparklora.nn;

import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import io.sparklora.lora.LoraModule;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Linear layers that read one input and write side-by-side columns of one output, as q_proj, k_proj and v_proj write
 * the (rows, q+k+v) buffer. Their frozen products run as one GEMM over the weights stacked row-wise,
 * {@code [q;k;v] = x·[Wq;Wk;Wv]ᵀ}, and backward's input gradient as one GEMM with the summed inner dimension
 * {@code dx = [dq dk dv]·[Wq;Wk;Wv]}: one wide product instead of three narrow ones (at dim 256, three 1024×256×256
 * products run at about half the rate of one 1024×768×256 on OpenBLAS), and dx is written once instead of read and
 * written three times. The LoRA branches of two or more adapted layers without dropout then run with their A
 * matrices stacked ({@link StackedLora}); otherwise each layer's branch runs on its own, as before.
 *
 * <p>The stacked weight is a copy made once per model (the base's tensors stay as they are): it is made only when the
 * layers are frozen (LoRA training: full-weight training accumulates each dW), all in the (out, in) layout, and the
 * copy holds at most {@link #MAX_STACKED_FLOATS}; otherwise the layers run one by one, exactly as unfused. Results
 * differ from the unfused path by float rounding only (the order of the sum over the inner dimension of dx).
 */
final class FusedLinear {
    /** Largest stacked copy per group (16 MiB): real-size bases run wide GEMMs at full rate without it. */
    static final int MAX_STACKED_FLOATS = 1 << 22;

    private final LoraLinear[] parts;
    private final int[] columns; // (parts.length) first output column of each part
    private final int in;
    private final int out; // Σ parts' out
    private final FloatBuffer stackedWeight; // (out, in), or null: the parts run one by one
    private final FloatBuffer stackedBias; // (out), zeros for parts without a bias; null when no part has one
    private final StackedLora stackedLora; // the parts' LoRA branches over one stacked A, or null: one by one

    FusedLinear(List<LoraLinear> layers) {
        this.parts = layers.toArray(new LoraLinear[0]);
        this.in = parts[0].in();
        this.columns = new int[parts.length];
        int total = 0;
        boolean stackable = true;
        boolean anyBias = false;
        for (int i = 0; i < parts.length; i++) {
            LoraLinear p = parts[i];
            if (p.in() != in) {
                throw new IllegalArgumentException("Cannot fuse " + p.module.path() + ": its input has " + p.in()
                        + " features, expected " + in + " as the group's first layer");
            }
            columns[i] = total;
            total += p.out();
            stackable &= !p.trainsWeight() && p.module.layout() == WeightLayout.OUT_IN;
            anyBias |= p.bias() != null;
        }
        this.out = total;
        stackable &= (long) total * in <= MAX_STACKED_FLOATS;
        this.stackedWeight = stackable ? Tensor.allocate(total * in) : null;
        this.stackedBias = stackable && anyBias ? Tensor.allocate(total) : null;
        if (stackable) {
            for (int i = 0; i < parts.length; i++) {
                LoraLinear p = parts[i];
                stackedWeight.put(columns[i] * in, p.weight(), 0, p.out() * in);
                if (p.bias() != null) {
                    stackedBias.put(columns[i], p.bias(), 0, p.out());
                }
            }
        }
        this.stackedLora = stackable ? stackLora() : null;
    }

    /** The adapted parts' branches with A stacked, when there are two or more and none has dropout; else null. */
    private StackedLora stackLora() {
        List<LoraModule> adapted = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            LoraModule m = parts[i].lora();
            if (m != null) {
                if (m.dropout() > 0f) {
                    return null;
                }
                adapted.add(m);
                at.add(columns[i]);
            }
        }
        return adapted.size() < 2 ? null : new StackedLora(adapted, at, in);
    }

    /** Whether the frozen products run as one stacked GEMM (else one by one). */
    boolean stacked() {
        return stackedWeight != null;
    }

    /** {@code y[:, columns of part i] = part_i(x)} for every part (overwrites those columns of y). */
    void forward(int n, FloatBuffer x, int xOff, int ldx, FloatBuffer y, int yOff, int ldy, SplitMix64 dropoutRng) {
        if (stackedWeight == null) {
            for (int i = 0; i < parts.length; i++) {
                parts[i].forward(n, x, xOff, ldx, 0f, y, yOff + columns[i], ldy, dropoutRng);
            }
            return;
        }
        Linear.linearForward(n, in, out, x, xOff, ldx, stackedWeight, WeightLayout.OUT_IN, stackedBias, 0f, y, yOff,
                ldy);
        if (stackedLora != null) {
            stackedLora.forward(n, x, xOff, ldx, y, yOff, ldy);
            return;
        }
        for (int i = 0; i < parts.length; i++) {
            parts[i].branchForward(n, x, xOff, ldx, y, yOff + columns[i], ldy, dropoutRng);
        }
    }

    /**
     * Backward of {@link #forward} from dy (the parts' output gradients side by side): overwrites dx (may be null: no
     * input gradient) and adds every parameter gradient into its grad.
     */
    void backward(int n, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x, int xOff, int ldx, FloatBuffer dx,
                  int dxOff, int lddx) {
        if (stackedWeight == null) {
            for (int i = 0; i < parts.length; i++) {
                parts[i].backward(n, dy, dyOff + columns[i], lddy, x, xOff, ldx, i == 0 ? 0f : 1f, dx, dxOff, lddx);
            }
            return;
        }
        Linear.linearBackward(n, in, out, dy, dyOff, lddy, x, xOff, ldx, stackedWeight, WeightLayout.OUT_IN, 0f, dx,
                dxOff, lddx, null, null);
        if (stackedLora != null) {
            stackedLora.backward(n, dy, dyOff, lddy, x, xOff, ldx, dx, dxOff, lddx);
            return;
        }
        for (int i = 0; i < parts.length; i++) {
            parts[i].branchBackward(n, dy, dyOff + columns[i], lddy, x, xOff, ldx, dx, dxOff, lddx);
        }
    }
}
