package io.sparklora.nn;

import io.sparklora.lora.LoraModule;
import io.sparklora.model.LinearModule;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;

/**
 * One linear layer of a base model with its optional LoRA module, as PEFT's {@code lora.Linear}:
 * {@code y = base(x) + scaling · B·A·dropout(x)}, dropout (inverted, probability {@code lora.dropout()}) on the LoRA
 * branch input only. Owns the per-shape buffers its backward needs; the caller owns x and y.
 *
 * <p>Gradients: dA and dB always (when adapted); dW and db only when built with weight gradients (full-weight mode).
 */
final class LoraLinear {
    final LinearModule module;
    private final FloatBuffer weight; // (out, in) or (in, out), per module.layout()
    private final FloatBuffer bias; // (out) or null
    private final LoraModule lora; // null when not adapted
    private final FloatBuffer weightGrad; // like weight, or null
    private final FloatBuffer biasGrad; // like bias, or null
    private final SlicedBranches slices; // K adapters' branches over row slices (then lora is null), or null

    private int rows;
    private FloatBuffer u; // (rows, rank): xd·Aᵀ
    private FloatBuffer du; // (rows, rank)
    private FloatBuffer mask; // (rows, in): 0 or 1/(1-p), when dropout was applied
    private FloatBuffer xd; // (rows, in): x ⊙ mask
    private FloatBuffer dxd; // (rows, in)
    private boolean droppedOut; // whether the last forward applied a dropout mask

    LoraLinear(LinearModule module, Tensor weight, Tensor bias, LoraModule lora, Tensor weightGrad, Tensor biasGrad) {
        this.module = module;
        this.weight = weight.data();
        this.bias = bias == null ? null : bias.data();
        this.lora = lora;
        this.weightGrad = weightGrad == null ? null : weightGrad.data();
        this.biasGrad = biasGrad == null ? null : biasGrad.data();
        this.slices = null;
    }

    /** A frozen layer whose rows are K adapters' slices, each with its own branch ({@link SlicedBranches}). */
    LoraLinear(LinearModule module, Tensor weight, Tensor bias, SlicedBranches slices) {
        this.module = module;
        this.weight = weight.data();
        this.bias = bias == null ? null : bias.data();
        this.lora = null;
        this.weightGrad = null;
        this.biasGrad = null;
        this.slices = slices;
    }

    int in() {
        return module.inFeatures();
    }

    int out() {
        return module.outFeatures();
    }

    /** (out, in) or (in, out), per the module's layout: the frozen base weight. */
    FloatBuffer weight() {
        return weight;
    }

    /** The LoRA module, or null when not adapted. */
    LoraModule lora() {
        return lora;
    }

    /** (out), or null. */
    FloatBuffer bias() {
        return bias;
    }

    /** Whether backward accumulates dW (full-weight training): such a layer's product cannot be stacked. */
    boolean trainsWeight() {
        return weightGrad != null || biasGrad != null;
    }

    /** Whether backward reads the layer input x (for dA or dW); when not, callers need not keep or rebuild it. */
    boolean backwardReadsInput() {
        return lora != null || weightGrad != null || (slices != null && slices.adapted());
    }

    private void ensureRows(int n) {
        if (lora == null || n == rows) {
            return;
        }
        rows = n;
        u = Tensor.allocate(n * lora.rank());
        du = Tensor.allocate(n * lora.rank());
        if (lora.dropout() > 0f) {
            mask = Tensor.allocate(n * in());
            xd = Tensor.allocate(n * in());
            dxd = Tensor.allocate(n * in());
        }
    }

    /**
     * {@code y = layer(x) + beta·y}. dropoutRng is the stream masks are drawn from in training mode, or null for no
     * dropout (evaluation).
     */
    void forward(int n, FloatBuffer x, int xOff, int ldx, float beta, FloatBuffer y, int yOff, int ldy,
                 SplitMix64 dropoutRng) {
        Linear.linearForward(n, in(), out(), x, xOff, ldx, weight, module.layout(), bias, beta, y, yOff, ldy);
        branchForward(n, x, xOff, ldx, y, yOff, ldy, dropoutRng);
    }

    /**
     * The LoRA branch alone, added onto y: {@code y += scaling · B·A·dropout(x)} ({@link FusedLinear} runs the frozen
     * product of several layers as one GEMM, then each layer's branch). Nothing when not adapted.
     */
    void branchForward(int n, FloatBuffer x, int xOff, int ldx, FloatBuffer y, int yOff, int ldy,
                       SplitMix64 dropoutRng) {
        if (slices != null) {
            slices.forward(n, x, xOff, ldx, y, yOff, ldy, dropoutRng);
            return;
        }
        if (lora == null) {
            return;
        }
        ensureRows(n);
        droppedOut = dropoutRng != null && lora.dropout() > 0f;
        FloatBuffer branchIn = x;
        int bOff = xOff;
        int ldb = ldx;
        if (droppedOut) {
            drawMask(n, dropoutRng);
            int in = in();
            float[] xr = new float[in];
            float[] mr = new float[in];
            for (int r = 0; r < n; r++) {
                x.get(xOff + r * ldx, xr, 0, in);
                mask.get(r * in, mr, 0, in);
                for (int j = 0; j < in; j++) {
                    xr[j] *= mr[j];
                }
                xd.put(r * in, xr, 0, in);
            }
            branchIn = xd;
            bOff = 0;
            ldb = in;
        }
        Linear.loraForward(n, in(), out(), lora.rank(), lora.scaling(), branchIn, bOff, ldb,
                lora.loraA().value().data(), lora.loraB().value().data(), u, y, yOff, ldy);
    }

    private void drawMask(int n, SplitMix64 rng) {
        float p = lora.dropout();
        float keep = 1f / (1f - p);
        for (int i = 0, size = n * in(); i < size; i++) {
            mask.put(i, rng.nextFloat() < p ? 0f : keep);
        }
    }

    /**
     * Backward of the last {@link #forward} on the same x: {@code dx = dy·W' + dxBeta·dx} (dx may be null), and the
     * parameter gradients added into their grad tensors.
     */
    void backward(int n, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x, int xOff, int ldx, float dxBeta,
                  FloatBuffer dx, int dxOff, int lddx) {
        Linear.linearBackward(n, in(), out(), dy, dyOff, lddy, x, xOff, ldx, weight, module.layout(), dxBeta, dx,
                dxOff, lddx, weightGrad, biasGrad);
        branchBackward(n, dy, dyOff, lddy, x, xOff, ldx, dx, dxOff, lddx);
    }

    /**
     * Backward of {@link #branchForward}: dA and dB added into their grads, and the branch's input gradient added onto
     * dx (when not null).
     */
    void branchBackward(int n, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x, int xOff, int ldx, FloatBuffer dx,
                        int dxOff, int lddx) {
        if (slices != null) {
            slices.backward(n, dy, dyOff, lddy, x, xOff, ldx, dx, dxOff, lddx);
            return;
        }
        if (lora == null) {
            return;
        }
        FloatBuffer a = lora.loraA().value().data();
        FloatBuffer b = lora.loraB().value().data();
        FloatBuffer dA = lora.loraA().grad().data();
        FloatBuffer dB = lora.loraB().grad().data();
        if (!droppedOut) {
            Linear.loraBackward(n, in(), out(), lora.rank(), lora.scaling(), dy, dyOff, lddy, x, xOff, ldx, a, b, u,
                    du, dA, dB, 1f, dx, dxOff, lddx);
            return;
        }
        int in = in();
        Linear.loraBackward(n, in, out(), lora.rank(), lora.scaling(), dy, dyOff, lddy, xd, 0, in, a, b, u, du, dA,
                dB, 0f, dx == null ? null : dxd, 0, in);
        if (dx != null) {
            float[] dr = new float[in];
            float[] gr = new float[in];
            float[] mr = new float[in];
            for (int r = 0; r < n; r++) {
                dx.get(dxOff + r * lddx, dr, 0, in);
                dxd.get(r * in, gr, 0, in);
                mask.get(r * in, mr, 0, in);
                for (int j = 0; j < in; j++) {
                    dr[j] += gr[j] * mr[j];
                }
                dx.put(dxOff + r * lddx, dr, 0, in);
            }
        }
    }
}
