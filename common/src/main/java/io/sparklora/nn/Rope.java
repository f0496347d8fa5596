package io.sparklora.nn;

import io.sparklora.model.RopeScaling;
import java.nio.FloatBuffer;
import java.util.function.IntUnaryOperator;

/**
 * Rotary position embedding (Su et al. 2021, "RoFormer") in Hugging Face LLaMA's rotate-half convention: element i of
 * a head pairs with element i + headDim/2 (not with its neighbour), {@code inv_freq_i = theta^(-2i/headDim)}, and
 * position t of every sequence is t (0..seq-1). Tables are computed in float as {@code LlamaRotaryEmbedding} does.
 */
public final class Rope {
    private final int headDim;
    private final int half;
    private final float[] cos; // (maxSeq, headDim/2)
    private final float[] sin; // (maxSeq, headDim/2)

    public Rope(int headDim, double theta, int maxSeq) {
        this(headDim, RopeScaling.NONE.inverseFrequencies(headDim, theta), maxSeq);
    }

    /**
     * Tables for given inverse frequencies (headDim / 2 of them: rope_theta under a rope_scaling, see
     * {@link io.sparklora.model.LlamaConfig#ropeInverseFrequencies()}); angle t·inv_freq_i in float as HF's
     * {@code inv_freq @ position_ids}.
     */
    public Rope(int headDim, float[] invFreq, int maxSeq) {
        if (invFreq.length != headDim / 2) {
            throw new IllegalArgumentException("Invalid RoPE frequencies: " + invFreq.length + " for head_dim "
                    + headDim + ", expected " + headDim / 2);
        }
        this.headDim = headDim;
        this.half = headDim / 2;
        this.cos = new float[maxSeq * half];
        this.sin = new float[maxSeq * half];
        for (int i = 0; i < half; i++) {
            for (int t = 0; t < maxSeq; t++) {
                float angle = t * invFreq[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    public int maxSeq() {
        return cos.length / half;
    }

    /**
     * Rotates, in place, {@code heads} heads of every row of a (rows, ld) buffer starting at column {@code off}; row r
     * is position r mod seq: {@code x_i ← x_i·cos − x_{i+h}·sin, x_{i+h} ← x_{i+h}·cos + x_i·sin}.
     */
    public void forward(int rows, int seq, int heads, FloatBuffer x, int off, int ld) {
        rotate(rows, r -> r % seq, heads, x, off, ld, 1f);
    }

    /**
     * As {@link #forward}, but row r is at position {@code positions[r]} (a decoder step whose rows belong to several
     * sequences at different lengths).
     */
    public void forwardAt(int rows, int[] positions, int heads, FloatBuffer x, int off, int ld) {
        rotate(rows, r -> positions[r], heads, x, off, ld, 1f);
    }

    /** Backward of {@link #forward} on a gradient buffer, in place: the inverse (transposed) rotation. */
    public void backward(int rows, int seq, int heads, FloatBuffer dx, int off, int ld) {
        rotate(rows, r -> r % seq, heads, dx, off, ld, -1f);
    }

    private void rotate(int rows, IntUnaryOperator position, int heads, FloatBuffer x, int off, int ld, float sign) {
        float[] row = new float[heads * headDim];
        for (int r = 0; r < rows; r++) {
            int t = position.applyAsInt(r) * half;
            x.get(off + r * ld, row, 0, row.length);
            for (int h = 0; h < heads; h++) {
                int o = h * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[t + i];
                    float s = sign * sin[t + i];
                    float a = row[o + i];
                    float b = row[o + i + half];
                    row[o + i] = a * c - b * s;
                    row[o + i + half] = b * c + a * s;
                }
            }
            x.put(off + r * ld, row, 0, row.length);
        }
    }
}
