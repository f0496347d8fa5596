package io.sparklora.nn;

import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Blas;
import java.nio.FloatBuffer;

/**
 * Kernels of a linear layer and of its LoRA branch (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
 * Models"), over all rows = batch·seq at once: every product is one {@code cblas_sgemm} on direct buffers.
 *
 * <p>Activations are addressed as (offset, leading dimension) so that q, k and v can live side by side in one
 * (rows, q+k+v) buffer. The LoRA branch is two thin GEMMs, {@code u = x_d·Aᵀ} then {@code y += s·u·Bᵀ}; B·A is never
 * materialised. A is (rank, in) and B is (out, rank) for both weight layouts: PEFT's {@code fan_in_fan_out} only
 * transposes W.
 */
public final class Linear {
    private Linear() {
    }

    /**
     * {@code y = x·Wᵀ + b + beta·y} (OUT_IN, W (out, in)) or {@code y = x·W + b + beta·y} (IN_OUT, W (in, out)).
     * beta is 0 (overwrite) or 1 (add onto y, e.g. a residual already copied there). bias may be null.
     */
    public static void linearForward(int rows, int in, int out, FloatBuffer x, int xOff, int ldx, FloatBuffer w,
                                     WeightLayout layout, FloatBuffer bias, float beta, FloatBuffer y, int yOff,
                                     int ldy) {
        if (layout == WeightLayout.OUT_IN) {
            Blas.gemmNT(rows, out, in, 1f, x, xOff, ldx, w, 0, in, beta, y, yOff, ldy);
        } else {
            Blas.gemmNN(rows, out, in, 1f, x, xOff, ldx, w, 0, out, beta, y, yOff, ldy);
        }
        if (bias != null) {
            float[] b = new float[out];
            float[] row = new float[out];
            bias.get(0, b, 0, out);
            for (int r = 0; r < rows; r++) {
                y.get(yOff + r * ldy, row, 0, out);
                for (int j = 0; j < out; j++) {
                    row[j] += b[j];
                }
                y.put(yOff + r * ldy, row, 0, out);
            }
        }
    }

    /**
     * Backward of {@link #linearForward}: {@code dx = dy·W + dxBeta·dx} (dx may be null: no input gradient), and when
     * given, {@code dW += dyᵀ·x} (OUT_IN) or {@code xᵀ·dy} (IN_OUT) and {@code db += Σ_rows dy}.
     */
    public static void linearBackward(int rows, int in, int out, FloatBuffer dy, int dyOff, int lddy, FloatBuffer x,
                                      int xOff, int ldx, FloatBuffer w, WeightLayout layout, float dxBeta,
                                      FloatBuffer dx, int dxOff, int lddx, FloatBuffer dW, FloatBuffer db) {
        boolean outIn = layout == WeightLayout.OUT_IN;
        if (dx != null) {
            if (outIn) {
                Blas.gemmNN(rows, in, out, 1f, dy, dyOff, lddy, w, 0, in, dxBeta, dx, dxOff, lddx);
            } else {
                Blas.gemmNT(rows, in, out, 1f, dy, dyOff, lddy, w, 0, out, dxBeta, dx, dxOff, lddx);
            }
        }
        if (dW != null) {
            if (outIn) {
                Blas.gemmTN(out, in, rows, 1f, dy, dyOff, lddy, x, xOff, ldx, 1f, dW, 0, in);
            } else {
                Blas.gemmTN(in, out, rows, 1f, x, xOff, ldx, dy, dyOff, lddy, 1f, dW, 0, out);
            }
        }
        if (db != null) {
            float[] sum = new float[out];
            float[] row = new float[out];
            for (int r = 0; r < rows; r++) {
                dy.get(dyOff + r * lddy, row, 0, out);
                for (int j = 0; j < out; j++) {
                    sum[j] += row[j];
                }
            }
            for (int j = 0; j < out; j++) {
                db.put(j, db.get(j) + sum[j]);
            }
        }
    }

    /**
     * LoRA branch: {@code u = xd·Aᵀ} (kept for backward) and {@code y += scaling·u·Bᵀ}, where xd is the (dropped-out)
     * layer input.
     *
     * @param a (rank, in)
     * @param b (out, rank)
     * @param u (rows, rank), written
     */
    public static void loraForward(int rows, int in, int out, int rank, float scaling, FloatBuffer xd, int xdOff,
                                   int ldxd, FloatBuffer a, FloatBuffer b, FloatBuffer u, FloatBuffer y, int yOff,
                                   int ldy) {
        Blas.gemmNT(rows, rank, in, 1f, xd, xdOff, ldxd, a, 0, in, 0f, u, 0, rank);
        Blas.gemmNT(rows, out, rank, scaling, u, 0, rank, b, 0, rank, 1f, y, yOff, ldy);
    }

    /**
     * Backward of {@link #loraForward}: {@code dB += s·dyᵀ·u}, {@code du = s·dy·B}, {@code dA += duᵀ·xd} and, when
     * dxd is not null, {@code dxd = du·A + dxdBeta·dxd} (the gradient at the dropout output).
     *
     * @param du (rows, rank) scratch, overwritten
     */
    public static void loraBackward(int rows, int in, int out, int rank, float scaling, FloatBuffer dy, int dyOff,
                                    int lddy, FloatBuffer xd, int xdOff, int ldxd, FloatBuffer a, FloatBuffer b,
                                    FloatBuffer u, FloatBuffer du, FloatBuffer dA, FloatBuffer dB, float dxdBeta,
                                    FloatBuffer dxd, int dxdOff, int lddxd) {
        Blas.gemmTN(out, rank, rows, scaling, dy, dyOff, lddy, u, 0, rank, 1f, dB, 0, rank);
        Blas.gemmNN(rows, rank, out, scaling, dy, dyOff, lddy, b, 0, rank, 0f, du, 0, rank);
        Blas.gemmTN(rank, in, rows, 1f, du, 0, rank, xd, xdOff, ldxd, 1f, dA, 0, in);
        if (dxd != null) {
            Blas.gemmNN(rows, in, rank, 1f, du, 0, rank, a, 0, in, dxdBeta, dxd, dxdOff, lddxd);
        }
    }
}
