package io.sparklora.nn;

import io.sparklora.lora.LoraModule;
import io.sparklora.tensor.Blas;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The LoRA branches of layers that share one input (q_proj and v_proj over n₁), with their A matrices stacked:
 * {@code [u_q u_v] = x·[A_q;A_v]ᵀ} is one GEMM that reads x once, backward's {@code [dA_q;dA_v] = [du_q du_v]ᵀ·x} and
 * {@code dx += [du_q du_v]·[A_q;A_v]} one GEMM each (instead of one per layer, each a thin product that costs as much
 * as reading x or writing dx). The B products stay per layer: they write different columns of y. Hu et al. 2021.
 *
 * <p>Only for branches without dropout: with it every layer sees its own masked copy of x. A is copied into the
 * stack on every forward (it changes every optimizer step); dA is scattered back into each layer's grad. Equal to
 * the per-layer branches up to float rounding (the order of the sums in dx).
 */
final class StackedLora {
    private final LoraModule[] modules;
    private final int[] columns; // first output column of each module's layer in y
    private final int[] rankOffsets; // first row of each module's A in the stack
    private final int in;
    private final int ranks; // Σ ranks
    private final FloatBuffer a; // (ranks, in): A matrices stacked, refreshed every forward
    private final FloatBuffer dA; // (ranks, in) scratch
    private int rows;
    private FloatBuffer u; // (rows, ranks): x·aᵀ, kept for backward
    private FloatBuffer du; // (rows, ranks)

    StackedLora(List<LoraModule> modules, List<Integer> columns, int in) {
        this.modules = modules.toArray(new LoraModule[0]);
        this.columns = columns.stream().mapToInt(Integer::intValue).toArray();
        this.in = in;
        this.rankOffsets = new int[this.modules.length];
        int total = 0;
        for (int i = 0; i < this.modules.length; i++) {
            if (this.modules[i].dropout() > 0f) {
                throw new IllegalArgumentException("Cannot stack the LoRA branch of " + this.modules[i].target().path()
                        + ": its dropout " + this.modules[i].dropout() + " gives it its own input, expected 0");
            }
            rankOffsets[i] = total;
            total += this.modules[i].rank();
        }
        this.ranks = total;
        this.a = Tensor.allocate(total * in);
        this.dA = Tensor.allocate(total * in);
    }

    /** {@code y[:, layer i's columns] += scaling_i · u_i·B_iᵀ} with {@code u = x·[A…]ᵀ}. */
    void forward(int n, FloatBuffer x, int xOff, int ldx, FloatBuffer y, int yOff, int ldy) {
        if (n != rows) {
            rows = n;
            u = Tensor.allocate(n * ranks);
            du = Tensor.allocate(n * ranks);
        }
        for (int i = 0; i < modules.length; i++) {
            a.put(rankOffsets[i] * in, modules[i].loraA().value().data(), 0, modules[i].rank() * in);
        }
        Blas.gemmNT(n, ranks, in, 1f, x, xOff, ldx, a, 0, in, 0f, u, 0, ranks);
        for (int i = 0; i < modules.length; i++) {
            LoraModule m = modules[i];
            int out = m.target().outFeatures();
            Blas.gemmNT(n, out, m.rank(), m.scaling(), u, rankOffsets[i], ranks, m.loraB().value().data(), 0,
                    m.rank(), 1f, y, yOff + columns[i], ldy);
        }
    }

    /**
     * Backward of {@link #forward} on the same x: dB and dA added into each module's grads, the branches' input
     * gradient added onto dx (when not null).
     */
    void backward(int n, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x, int xOff, int ldx, FloatBuffer dx,
                  int dxOff, int lddx) {
        for (int i = 0; i < modules.length; i++) {
            LoraModule m = modules[i];
            int out = m.target().outFeatures();
            int r = m.rank();
            int dyCol = dyOff + columns[i];
            Blas.gemmTN(out, r, n, m.scaling(), dy, dyCol, lddy, u, rankOffsets[i], ranks, 1f,
                    m.loraB().grad().data(), 0, r);
            Blas.gemmNN(n, r, out, m.scaling(), dy, dyCol, lddy, m.loraB().value().data(), 0, r, 0f, du,
                    rankOffsets[i], ranks);
        }
        Blas.gemmTN(ranks, in, n, 1f, du, 0, ranks, x, xOff, ldx, 0f, dA, 0, in);
        float[] stacked = new float[in];
        float[] grad = new float[in];
        for (int i = 0; i < modules.length; i++) {
            FloatBuffer g = modules[i].loraA().grad().data();
            for (int r = 0; r < modules[i].rank(); r++) {
                dA.get((rankOffsets[i] + r) * in, stacked, 0, in);
                g.get(r * in, grad, 0, in);
                for (int j = 0; j < in; j++) {
                    grad[j] += stacked[j];
                }
                g.put(r * in, grad, 0, in);
            }
        }
        if (dx != null) {
            Blas.gemmNN(n, in, ranks, 1f, du, 0, ranks, a, 0, in, 1f, dx, dxOff, lddx);
        }
    }
}
