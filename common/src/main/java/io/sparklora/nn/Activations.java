package io.sparklora.nn;

import java.nio.FloatBuffer;

/** Element-wise MLP activations over n contiguous floats, each a forward/backward pair. */
public final class Activations {
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_C = 0.044715f;

    private Activations() {
    }

    /**
     * LLaMA's SwiGLU (Shazeer 2020): {@code act = silu(gate) · up}, silu(g) = g·σ(g).
     *
     * @param sigmoid (n) written: σ(gate), kept so backward needs no exp
     */
    public static void swigluForward(int n, FloatBuffer gate, FloatBuffer up, FloatBuffer act, FloatBuffer sigmoid) {
        for (int i = 0; i < n; i++) {
            float g = gate.get(i);
            float s = (float) (1.0 / (1.0 + Math.exp(-g)));
            sigmoid.put(i, s);
            act.put(i, g * s * up.get(i));
        }
    }

    /** Writes (overwrites) dGate and dUp from dAct. */
    public static void swigluBackward(int n, FloatBuffer dAct, FloatBuffer gate, FloatBuffer up, FloatBuffer sigmoid,
                                      FloatBuffer dGate, FloatBuffer dUp) {
        for (int i = 0; i < n; i++) {
            float g = gate.get(i);
            float s = sigmoid.get(i);
            float d = dAct.get(i);
            dUp.put(i, d * g * s);
            dGate.put(i, d * up.get(i) * s * (1f + g * (1f - s)));
        }
    }

    /** GPT-2's {@code gelu_new}: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    public static void geluNewForward(int n, FloatBuffer x, FloatBuffer y) {
        for (int i = 0; i < n; i++) {
            float v = x.get(i);
            float t = (float) Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
            y.put(i, 0.5f * v * (1f + t));
        }
    }

    /** Writes (overwrites) dx from dy. */
    public static void geluNewBackward(int n, FloatBuffer dy, FloatBuffer x, FloatBuffer dx) {
        for (int i = 0; i < n; i++) {
            float v = x.get(i);
            float t = (float) Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
            float du = SQRT_2_OVER_PI * (1f + 3f * GELU_C * v * v);
            dx.put(i, dy.get(i) * (0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du));
        }
    }
}
