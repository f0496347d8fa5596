package io.sparklora.nn;

import java.nio.FloatBuffer;

/**
 * Row-wise normalisations over (rows, dim) activations, each a forward/backward pair. The forward keeps the per-row
 * statistics its backward needs; backward adds into dx and into the parameter gradients (null: not wanted). Rows are
 * copied to heap arrays for the arithmetic (several times faster than per-element direct-buffer access).
 */
public final class Norms {
    private Norms() {
    }

    /**
     * Hugging Face {@code LlamaRMSNorm}: {@code y = x · rsqrt(mean(x²) + eps) · w}, computed in float.
     *
     * @param rstd (rows) written: rsqrt(mean(x²) + eps) per row
     */
    public static void rmsNormForward(int rows, int dim, FloatBuffer x, FloatBuffer w, float eps, FloatBuffer y,
                                      FloatBuffer rstd) {
        float[] wr = new float[dim], xr = new float[dim];
        w.get(0, wr, 0, dim);
        for (int r = 0; r < rows; r++) {
            x.get(r * dim, xr, 0, dim);
            float rs = (float) (1.0 / Math.sqrt(FastMath.dot(xr, xr, dim) / dim + eps));
            rstd.put(r, rs);
            for (int j = 0; j < dim; j++) {
                xr[j] = wr[j] * (xr[j] * rs);
            }
            y.put(r * dim, xr, 0, dim);
        }
    }

    /** dx += ∂y/∂x·dy; dw += Σ_rows dy·x·rstd (dw may be null). */
    public static void rmsNormBackward(int rows, int dim, FloatBuffer dy, FloatBuffer x, FloatBuffer w,
                                       FloatBuffer rstd, FloatBuffer dx, FloatBuffer dw) {
        float[] wr = new float[dim], xr = new float[dim], gw = new float[dim], dxr = new float[dim];
        float[] dwAcc = dw == null ? null : new float[dim];
        w.get(0, wr, 0, dim);
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            x.get(o, xr, 0, dim);
            dy.get(o, gw, 0, dim);
            dx.get(o, dxr, 0, dim);
            float rs = rstd.get(r);
            if (dwAcc != null) {
                for (int j = 0; j < dim; j++) {
                    dwAcc[j] += gw[j] * xr[j] * rs;
                }
            }
            for (int j = 0; j < dim; j++) {
                gw[j] *= wr[j];
            }
            float c = FastMath.dot(gw, xr, dim) * rs * rs * rs / dim;
            for (int j = 0; j < dim; j++) {
                dxr[j] += rs * gw[j] - c * xr[j];
            }
            dx.put(o, dxr, 0, dim);
        }
        addInto(dw, dwAcc, dim);
    }

    /**
     * Qwen3's {@code q_norm} / {@code k_norm}: {@link #rmsNormForward} over each of the {@code heads} head vectors of
     * every row of a (rows, ld) buffer from column {@code off}, in place (the heads live inside a fused q|k|v row).
     *
     * @param w    (headDim) the norm weight, shared by all heads
     * @param x    (rows, heads·headDim) written: the values before the norm, for backward
     * @param rstd (rows·heads) written: rsqrt(mean(x²) + eps) per head vector
     */
    public static void headRmsNormForward(int rows, int heads, int headDim, FloatBuffer y, int off, int ld,
                                          FloatBuffer w, float eps, FloatBuffer x, FloatBuffer rstd) {
        int width = heads * headDim;
        float[] wr = new float[headDim], row = new float[width];
        w.get(0, wr, 0, headDim);
        for (int r = 0; r < rows; r++) {
            y.get(off + r * ld, row, 0, width);
            x.put(r * width, row, 0, width);
            for (int h = 0; h < heads; h++) {
                int o = h * headDim;
                double ss = 0;
                for (int j = 0; j < headDim; j++) {
                    ss += row[o + j] * row[o + j];
                }
                float rs = (float) (1.0 / Math.sqrt((float) ss / headDim + eps));
                rstd.put(r * heads + h, rs);
                for (int j = 0; j < headDim; j++) {
                    row[o + j] = wr[j] * (row[o + j] * rs);
                }
            }
            y.put(off + r * ld, row, 0, width);
        }
    }

    /**
     * Backward of {@link #headRmsNormForward}, in place: {@code dy} (the gradient at the norm's output, in the same
     * (rows, ld) columns) becomes the gradient at its input; {@code dw += Σ dy·x·rstd} (dw may be null).
     */
    public static void headRmsNormBackward(int rows, int heads, int headDim, FloatBuffer dy, int off, int ld,
                                           FloatBuffer x, FloatBuffer w, FloatBuffer rstd, FloatBuffer dw) {
        int width = heads * headDim;
        float[] wr = new float[headDim], xr = new float[width], g = new float[width];
        float[] dwAcc = dw == null ? null : new float[headDim];
        w.get(0, wr, 0, headDim);
        for (int r = 0; r < rows; r++) {
            x.get(r * width, xr, 0, width);
            dy.get(off + r * ld, g, 0, width);
            for (int h = 0; h < heads; h++) {
                int o = h * headDim;
                float rs = rstd.get(r * heads + h);
                double gx = 0;
                for (int j = 0; j < headDim; j++) {
                    if (dwAcc != null) {
                        dwAcc[j] += g[o + j] * xr[o + j] * rs;
                    }
                    g[o + j] *= wr[j];
                    gx += g[o + j] * xr[o + j];
                }
                float c = (float) gx * rs * rs * rs / headDim;
                for (int j = 0; j < headDim; j++) {
                    g[o + j] = rs * g[o + j] - c * xr[o + j];
                }
            }
            dy.put(off + r * ld, g, 0, width);
        }
        addInto(dw, dwAcc, headDim);
    }

    private static void addInto(FloatBuffer dst, float[] src, int n) {
        if (dst == null) {
            return;
        }
        for (int j = 0; j < n; j++) {
            dst.put(j, dst.get(j) + src[j]);
        }
    }

    /**
     * {@code torch.nn.LayerNorm}: {@code y = (x - mean) · rsqrt(var + eps) · w + b}, biased variance.
     *
     * @param mean (rows) written
     * @param rstd (rows) written
     */
    public static void layerNormForward(int rows, int dim, FloatBuffer x, FloatBuffer w, FloatBuffer b, float eps,
                                        FloatBuffer y, FloatBuffer mean, FloatBuffer rstd) {
        float[] wr = new float[dim], br = new float[dim], xr = new float[dim];
        w.get(0, wr, 0, dim);
        b.get(0, br, 0, dim);
        for (int r = 0; r < rows; r++) {
            x.get(r * dim, xr, 0, dim);
            float mu = FastMath.sum(xr, dim) / dim;
            for (int j = 0; j < dim; j++) {
                xr[j] -= mu;
            }
            float rs = (float) (1.0 / Math.sqrt(FastMath.dot(xr, xr, dim) / dim + eps));
            mean.put(r, mu);
            rstd.put(r, rs);
            for (int j = 0; j < dim; j++) {
                xr[j] = xr[j] * rs * wr[j] + br[j];
            }
            y.put(r * dim, xr, 0, dim);
        }
    }

    /** dx += ∂y/∂x·dy; dw += Σ dy·x̂, db += Σ dy (dw, db may be null). */
    public static void layerNormBackward(int rows, int dim, FloatBuffer dy, FloatBuffer x, FloatBuffer w,
                                         FloatBuffer mean, FloatBuffer rstd, FloatBuffer dx, FloatBuffer dw,
                                         FloatBuffer db) {
        float[] wr = new float[dim], xhat = new float[dim], g = new float[dim], dxr = new float[dim];
        float[] dwAcc = dw == null ? null : new float[dim];
        float[] dbAcc = db == null ? null : new float[dim];
        w.get(0, wr, 0, dim);
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            x.get(o, xhat, 0, dim);
            dy.get(o, g, 0, dim);
            dx.get(o, dxr, 0, dim);
            float mu = mean.get(r);
            float rs = rstd.get(r);
            for (int j = 0; j < dim; j++) {
                xhat[j] = (xhat[j] - mu) * rs;
            }
            if (dwAcc != null) {
                for (int j = 0; j < dim; j++) {
                    dwAcc[j] += g[j] * xhat[j];
                    dbAcc[j] += g[j];
                }
            }
            for (int j = 0; j < dim; j++) {
                g[j] *= wr[j];
            }
            float meanG = FastMath.sum(g, dim) / dim;
            float meanGx = FastMath.dot(g, xhat, dim) / dim;
            for (int j = 0; j < dim; j++) {
                dxr[j] += rs * (g[j] - meanG - xhat[j] * meanGx);
            }
            dx.put(o, dxr, 0, dim);
        }
        addInto(dw, dwAcc, dim);
        addInto(db, dbAcc, dim);
    }
}
