package io.sparklora.nn;

import io.sparklora.tensor.Blas;
import java.nio.FloatBuffer;

/**
 * Causal scaled dot-product attention with grouped-query heads (Ainslie et al. 2023, "GQA"): query head h reads key/value
 * head {@code h / (heads / kvHeads)}; scores are scaled by 1/√headDim, as Hugging Face's eager attention does in float32.
 *
 * <p>q, k, v and the output are read in place from (rows, ·) activation buffers through (offset, leading dimension),
 * so a head is a strided view: no gather copies. Per (sequence, head) the work is GEMMs over blocks of
 * {@link #BLOCK} query rows, each against only the keys it can see, so about half of the masked upper triangle is
 * never computed; the softmax is a Java loop over each visible row.
 */
public final class Attention {
    /** Query rows per block: small enough to skip most of the masked triangle, large enough for efficient GEMMs. */
    static final int BLOCK = 64;

    private Attention() {
    }

    /**
     * Forward. Row {@code b·seq + t} of each buffer is position t of sequence b.
     *
     * @param probs (batch, heads, seq, seq) written: the softmax probabilities (entries above the diagonal of each
     *              computed block are 0; entries right of a row's block are not written)
     */
    public static void attentionForward(int batch, int seq, int heads, int kvHeads, int headDim,
                                        FloatBuffer q, int qOff, int ldq, FloatBuffer k, int kOff, int ldk,
                                        FloatBuffer v, int vOff, int ldv, FloatBuffer probs,
                                        FloatBuffer out, int outOff, int ldo) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        float[] row = new float[seq];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int qo = qOff + b * seq * ldq + h * headDim;
                int ko = kOff + b * seq * ldk + (h / group) * headDim;
                int vo = vOff + b * seq * ldv + (h / group) * headDim;
                int oo = outOff + b * seq * ldo + h * headDim;
                int po = (b * heads + h) * seq * seq;
                for (int i0 = 0; i0 < seq; i0 += BLOCK) {
                    int i1 = Math.min(seq, i0 + BLOCK);
                    int m = i1 - i0;
                    int pb = po + i0 * seq;
                    Blas.gemmNT(m, i1, headDim, scale, q, qo + i0 * ldq, ldq, k, ko, ldk, 0f, probs, pb, seq);
                    for (int i = i0; i < i1; i++) {
                        softmaxCausalRow(probs, po + i * seq, i, i1, row);
                    }
                    Blas.gemmNN(m, headDim, i1, 1f, probs, pb, seq, v, vo, ldv, 0f, out, oo + i0 * ldo, ldo);
                }
            }
        }
    }

    /**
     * Forward for a decoder step over a key/value cache: m query rows of one sequence at positions past..past+m-1,
     * each attending to cached positions 0..its own (the cache already holds this step's keys and values). Same
     * scaling, grouping and softmax as {@link #attentionForward}.
     *
     * @param k      (≥ past+m, kvHeads·headDim) cached keys (rotated, for RoPE models), row stride ldkv
     * @param v      (≥ past+m, kvHeads·headDim) cached values, row stride ldkv
     * @param scores (≥ m·(past+m)) scratch
     */
    public static void cachedAttentionForward(int m, int past, int heads, int kvHeads, int headDim,
                                              FloatBuffer q, int qOff, int ldq, FloatBuffer k, FloatBuffer v,
                                              int ldkv, FloatBuffer scores, FloatBuffer out, int outOff, int ldo) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        int keys = past + m;
        float[] row = new float[keys];
        for (int h = 0; h < heads; h++) {
            int kvo = (h / group) * headDim;
            Blas.gemmNT(m, keys, headDim, scale, q, qOff + h * headDim, ldq, k, kvo, ldkv, 0f, scores, 0, keys);
            for (int i = 0; i < m; i++) {
                softmaxCausalRow(scores, i * keys, past + i, keys, row);
            }
            Blas.gemmNN(m, headDim, keys, 1f, scores, 0, keys, v, kvo, ldkv, 0f, out, outOff + h * headDim, ldo);
        }
    }

    /** Softmax over entries 0..i of a score row; entries i+1..end-1 become 0. row: (≥ end) scratch. */
    private static void softmaxCausalRow(FloatBuffer p, int o, int i, int end, float[] row) {
        p.get(o, row, 0, i + 1);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
            max = Math.max(max, row[j]);
        }
        float sum = 0f;
        for (int j = 0; j <= i; j++) {
            float e = FastMath.exp(row[j] - max);
            row[j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j <= i; j++) {
            row[j] *= inv;
        }
        for (int j = i + 1; j < end; j++) {
            row[j] = 0f;
        }
        p.put(o, row, 0, end);
    }

    /**
     * Backward of {@link #attentionForward} given its probs: writes dq and (overwriting, summed over the heads of a
     * group) dk and dv.
     *
     * @param scratch (seq, seq) workspace
     */
    public static void attentionBackward(int batch, int seq, int heads, int kvHeads, int headDim,
                                         FloatBuffer q, int qOff, int ldq, FloatBuffer k, int kOff, int ldk,
                                         FloatBuffer v, int vOff, int ldv, FloatBuffer probs,
                                         FloatBuffer dOut, int dOutOff, int lddo,
                                         FloatBuffer dq, int dqOff, int lddq, FloatBuffer dk, int dkOff, int lddk,
                                         FloatBuffer dv, int dvOff, int lddv, FloatBuffer scratch) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        float[] pRow = new float[seq];
        float[] dRow = new float[seq];
        float[] zeros = new float[kvHeads * headDim];
        for (int r = 0; r < batch * seq; r++) {
            dk.put(dkOff + r * lddk, zeros, 0, zeros.length);
            dv.put(dvOff + r * lddv, zeros, 0, zeros.length);
        }
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int qo = qOff + b * seq * ldq + h * headDim;
                int ko = kOff + b * seq * ldk + (h / group) * headDim;
                int vo = vOff + b * seq * ldv + (h / group) * headDim;
                int doo = dOutOff + b * seq * lddo + h * headDim;
                int dqo = dqOff + b * seq * lddq + h * headDim;
                int dko = dkOff + b * seq * lddk + (h / group) * headDim;
                int dvo = dvOff + b * seq * lddv + (h / group) * headDim;
                int po = (b * heads + h) * seq * seq;
                for (int i0 = 0; i0 < seq; i0 += BLOCK) {
                    int i1 = Math.min(seq, i0 + BLOCK);
                    int m = i1 - i0;
                    int pb = po + i0 * seq;
                    int sb = i0 * seq;
                    // dP = dO·Vᵀ, then dS = P ⊙ (dP − Σ_j P·dP) in place
                    Blas.gemmNT(m, i1, headDim, 1f, dOut, doo + i0 * lddo, lddo, v, vo, ldv, 0f, scratch, sb, seq);
                    for (int i = i0; i < i1; i++) {
                        probs.get(po + i * seq, pRow, 0, i + 1);
                        scratch.get(i * seq, dRow, 0, i + 1);
                        float dot = FastMath.dot(pRow, dRow, i + 1);
                        for (int j = 0; j <= i; j++) {
                            dRow[j] = pRow[j] * (dRow[j] - dot);
                        }
                        for (int j = i + 1; j < i1; j++) {
                            dRow[j] = 0f;
                        }
                        scratch.put(i * seq, dRow, 0, i1);
                    }
                    Blas.gemmNN(m, headDim, i1, scale, scratch, sb, seq, k, ko, ldk, 0f, dq, dqo + i0 * lddq, lddq);
                    Blas.gemmTN(i1, headDim, m, scale, scratch, sb, seq, q, qo + i0 * ldq, ldq, 1f, dk, dko, lddk);
                    Blas.gemmTN(i1, headDim, m, 1f, probs, pb, seq, dOut, doo + i0 * lddo, lddo, 1f, dv, dvo, lddv);
                }
            }
        }
    }
}
