package io.sparklora.nn;

import java.nio.FloatBuffer;

/**
 * Row-wise normalisations over (rows, dim) activations, each a forward/backward pair. The forward keeps the per-row
 * statistics its backward needs; backward adds into dx and into the parameter gradients (null: not wanted).
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
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double ss = 0;
            for (int j = 0; j < dim; j++) {
                float v = x.get(o + j);
                ss += v * v;
            }
            float rs = (float) (1.0 / Math.sqrt((float) (ss / dim) + eps));
            rstd.put(r, rs);
            for (int j = 0; j < dim; j++) {
                y.put(o + j, w.get(j) * (x.get(o + j) * rs));
            }
        }
    }

    /** dx += ∂y/∂x·dy; dw += Σ_rows dy·x·rstd (dw may be null). */
    public static void rmsNormBackward(int rows, int dim, FloatBuffer dy, FloatBuffer x, FloatBuffer w,
                                       FloatBuffer rstd, FloatBuffer dx, FloatBuffer dw) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float rs = rstd.get(r);
            double dot = 0; // Σ dy·w·x
            for (int j = 0; j < dim; j++) {
                dot += dy.get(o + j) * w.get(j) * x.get(o + j);
            }
            float c = (float) (dot * rs * rs * rs / dim);
            for (int j = 0; j < dim; j++) {
                float xj = x.get(o + j);
                float g = dy.get(o + j);
                dx.put(o + j, dx.get(o + j) + rs * g * w.get(j) - c * xj);
                if (dw != null) {
                    dw.put(j, dw.get(j) + g * xj * rs);
                }
            }
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
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double s = 0;
            for (int j = 0; j < dim; j++) {
                s += x.get(o + j);
            }
            float mu = (float) (s / dim);
            double ss = 0;
            for (int j = 0; j < dim; j++) {
                float d = x.get(o + j) - mu;
                ss += d * d;
            }
            float rs = (float) (1.0 / Math.sqrt((float) (ss / dim) + eps));
            mean.put(r, mu);
            rstd.put(r, rs);
            for (int j = 0; j < dim; j++) {
                y.put(o + j, (x.get(o + j) - mu) * rs * w.get(j) + b.get(j));
            }
        }
    }

    /** dx += ∂y/∂x·dy; dw += Σ dy·x̂, db += Σ dy (dw, db may be null). */
    public static void layerNormBackward(int rows, int dim, FloatBuffer dy, FloatBuffer x, FloatBuffer w,
                                         FloatBuffer mean, FloatBuffer rstd, FloatBuffer dx, FloatBuffer dw,
                                         FloatBuffer db) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float mu = mean.get(r);
            float rs = rstd.get(r);
            double sumG = 0; // Σ dy·w
            double sumGx = 0; // Σ dy·w·x̂
            for (int j = 0; j < dim; j++) {
                float g = dy.get(o + j) * w.get(j);
                sumG += g;
                sumGx += g * (x.get(o + j) - mu) * rs;
            }
            float meanG = (float) (sumG / dim);
            float meanGx = (float) (sumGx / dim);
            for (int j = 0; j < dim; j++) {
                float xhat = (x.get(o + j) - mu) * rs;
                float dyj = dy.get(o + j);
                dx.put(o + j, dx.get(o + j) + rs * (dyj * w.get(j) - meanG - xhat * meanGx));
                if (dw != null) {
                    dw.put(j, dw.get(j) + dyj * xhat);
                    db.put(j, db.get(j) + dyj);
                }
            }
        }
    }
}
