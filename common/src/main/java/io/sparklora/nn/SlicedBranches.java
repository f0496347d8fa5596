package io.sparklora.nn;

import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;

/**
 * The LoRA branches of one frozen layer for K adapters trained together over one base (the multi-LoRA idea of
 * mLoRA/ASPEN, Ye et al. 2023): the rows of a fused batch are K equal slices, slice k belongs to adapter k, and
 * only branch k runs on it. The frozen product over all K slices stays one GEMM in the owning {@link LoraLinear} (or
 * {@link FusedLinear}); each branch is an ordinary single-adapter {@link LoraLinear} with its own u, du and dropout
 * buffers, fed a row range by offset. Dropout masks come from each adapter's own stream, so the draws are the same
 * as when the adapter trains alone.
 */
final class SlicedBranches {
    private final LoraLinear[] branches; // (K) one per adapter, same module and frozen weight
    private final SplitMix64[] rngs; // (K) each adapter's dropout stream, owned by the model

    SlicedBranches(LoraLinear[] branches, SplitMix64[] rngs) {
        this.branches = branches;
        this.rngs = rngs;
    }

    /** Whether any adapter adapts this layer. */
    boolean adapted() {
        for (LoraLinear b : branches) {
            if (b.lora() != null) {
                return true;
            }
        }
        return false;
    }

    /** {@code y[slice k] += branch_k(x[slice k])} for every adapter k; dropoutRng non-null means training mode. */
    void forward(int n, FloatBuffer x, int xOff, int ldx, FloatBuffer y, int yOff, int ldy, SplitMix64 dropoutRng) {
        int slice = sliceRows(n);
        for (int k = 0; k < branches.length; k++) {
            branches[k].branchForward(slice, x, xOff + k * slice * ldx, ldx, y, yOff + k * slice * ldy, ldy,
                    dropoutRng == null ? null : rngs[k]);
        }
    }

    /** Backward of {@link #forward}: each adapter's dA, dB from its slice, its input gradient onto dx's slice. */
    void backward(int n, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x, int xOff, int ldx, FloatBuffer dx,
                  int dxOff, int lddx) {
        int slice = sliceRows(n);
        for (int k = 0; k < branches.length; k++) {
            branches[k].branchBackward(slice, dy, dyOff + k * slice * lddy, lddy, x, xOff + k * slice * ldx, ldx, dx,
                    dxOff + k * slice * lddx, lddx);
        }
    }

    private int sliceRows(int n) {
        if (n % branches.length != 0) {
            throw new IllegalArgumentException("Cannot split " + n + " rows into " + branches.length
                    + " equal adapter slices");
        }
        return n / branches.length;
    }
}
