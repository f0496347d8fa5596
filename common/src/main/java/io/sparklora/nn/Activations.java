package io.sparklora.nn;

import java.nio.FloatBuffer;

/**
 * Element-wise MLP activations over n contiguous floats, each a forward/backward pair. They work in chunks copied to
 * heap arrays: bulk copies plus plain array loops run several times faster than per-element direct-buffer access.
 */
public final class Activations {
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_C = 0.044715f;
    private static final int CHUNK = 2048;

    private Activations() {
    }

    /**
     * LLaMA's SwiGLU (Shazeer 2020): {@code act = silu(gate) · up}, silu(g) = g·σ(g).
     *
     * @param sigmoid (n) written: σ(gate), kept so backward needs no exp
     */
    public static void swigluForward(int n, FloatBuffer gate, FloatBuffer up, FloatBuffer act, FloatBuffer sigmoid) {
        float[] g = new float[CHUNK], u = new float[CHUNK], a = new float[CHUNK], s = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            gate.get(o, g, 0, m);
            up.get(o, u, 0, m);
            for (int i = 0; i < m; i++) {
                float sg = 1f / (1f + FastMath.exp(-g[i]));
                s[i] = sg;
                a[i] = g[i] * sg * u[i];
            }
            act.put(o, a, 0, m);
            sigmoid.put(o, s, 0, m);
        }
    }

    /** Recomputes {@code act = gate · σ · up} from the forward's kept σ (no exp): backward's input of down_proj. */
    public static void swigluFromSigmoid(int n, FloatBuffer gate, FloatBuffer up, FloatBuffer sigmoid,
                                         FloatBuffer act) {
        float[] g = new float[CHUNK], u = new float[CHUNK], s = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            gate.get(o, g, 0, m);
            up.get(o, u, 0, m);
            sigmoid.get(o, s, 0, m);
            for (int i = 0; i < m; i++) {
                g[i] = g[i] * s[i] * u[i];
            }
            act.put(o, g, 0, m);
        }
    }

    /** Writes (overwrites) dGate and dUp from dAct. */
    public static void swigluBackward(int n, FloatBuffer dAct, FloatBuffer gate, FloatBuffer up, FloatBuffer sigmoid,
                                      FloatBuffer dGate, FloatBuffer dUp) {
        float[] d = new float[CHUNK], g = new float[CHUNK], u = new float[CHUNK], s = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            dAct.get(o, d, 0, m);
            gate.get(o, g, 0, m);
            up.get(o, u, 0, m);
            sigmoid.get(o, s, 0, m);
            for (int i = 0; i < m; i++) {
                float dUpI = d[i] * g[i] * s[i];
                d[i] = d[i] * u[i] * s[i] * (1f + g[i] * (1f - s[i])); // dGate, in place
                u[i] = dUpI;
            }
            dGate.put(o, d, 0, m);
            dUp.put(o, u, 0, m);
        }
    }

    /**
     * tanh(√(2/π)·(x + 0.044715·x³)) as 1 − 2/(1 + e^{2u}): accurate to ~1e-7 absolute, which is what both uses of t
     * (1 + t and 1 − t²) need.
     */
    private static float geluTanh(float x) {
        float u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
        return 1f - 2f / (1f + FastMath.exp(2f * u));
    }

    /**
     * GPT-2's {@code gelu_new}: {@code y = 0.5·x·(1 + t)}, t = tanh(√(2/π)·(x + 0.044715·x³)).
     *
     * @param tanh (n) written: t, kept so backward needs no exp
     */
    public static void geluNewForward(int n, FloatBuffer x, FloatBuffer y, FloatBuffer tanh) {
        float[] v = new float[CHUNK], t = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            x.get(o, v, 0, m);
            for (int i = 0; i < m; i++) {
                t[i] = geluTanh(v[i]);
                v[i] = 0.5f * v[i] * (1f + t[i]);
            }
            y.put(o, v, 0, m);
            tanh.put(o, t, 0, m);
        }
    }

    /** Recomputes {@code y = 0.5·x·(1 + t)} from the forward's kept t (no exp): backward's input of c_proj. */
    public static void geluNewFromTanh(int n, FloatBuffer x, FloatBuffer tanh, FloatBuffer y) {
        float[] v = new float[CHUNK], t = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            x.get(o, v, 0, m);
            tanh.get(o, t, 0, m);
            for (int i = 0; i < m; i++) {
                v[i] = 0.5f * v[i] * (1f + t[i]);
            }
            y.put(o, v, 0, m);
        }
    }

    /** Writes (overwrites) dx from dy, x and the forward's t. */
    public static void geluNewBackward(int n, FloatBuffer dy, FloatBuffer x, FloatBuffer tanh, FloatBuffer dx) {
        float[] v = new float[CHUNK], d = new float[CHUNK], t = new float[CHUNK];
        for (int o = 0; o < n; o += CHUNK) {
            int m = Math.min(CHUNK, n - o);
            x.get(o, v, 0, m);
            dy.get(o, d, 0, m);
            tanh.get(o, t, 0, m);
            for (int i = 0; i < m; i++) {
                float xi = v[i];
                float du = SQRT_2_OVER_PI * (1f + 3f * GELU_C * xi * xi);
                d[i] *= 0.5f * (1f + t[i]) + 0.5f * xi * (1f - t[i] * t[i]) * du;
            }
            dx.put(o, d, 0, m);
        }
    }
}
