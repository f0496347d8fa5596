package io.sparklora.nn;

import io.sparklora.model.Batch;
import java.nio.FloatBuffer;

/**
 * Mean token cross-entropy of (rows, vocab) logits against target ids, skipping {@link Batch#IGNORE} targets, as
 * PyTorch's {@code cross_entropy(ignore_index=-100, reduction="mean")}. The log-softmax subtracts the row maximum and
 * sums in double.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /**
     * Returns the mean loss over non-ignored rows (0 when there are none).
     *
     * @param logSumExp (rows) written: log Σ exp(logits) per row, for backward
     */
    public static double crossEntropyForward(int rows, int vocab, FloatBuffer logits, int[] targets,
                                             FloatBuffer logSumExp) {
        float[] row = new float[vocab];
        double total = 0;
        int count = 0;
        for (int r = 0; r < rows; r++) {
            logits.get(r * vocab, row, 0, vocab);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) {
                max = Math.max(max, row[j]);
            }
            double s = 0;
            for (int j = 0; j < vocab; j++) {
                s += FastMath.exp(row[j] - max);
            }
            double lse = max + Math.log(s);
            logSumExp.put(r, (float) lse);
            int t = targets[r];
            if (t == Batch.IGNORE) {
                continue;
            }
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("Cannot score target " + t + " at row " + r
                        + ": outside the vocabulary of size " + vocab);
            }
            total += lse - row[t];
            count++;
        }
        return count == 0 ? 0.0 : total / count;
    }

    /** Writes (overwrites) dLogits = (softmax − onehot(target)) / count on counted rows, 0 on ignored rows. */
    public static void crossEntropyBackward(int rows, int vocab, FloatBuffer logits, int[] targets,
                                            FloatBuffer logSumExp, FloatBuffer dLogits) {
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] != Batch.IGNORE) {
                count++;
            }
        }
        float inv = count == 0 ? 0f : 1f / count;
        float[] row = new float[vocab];
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t == Batch.IGNORE) {
                java.util.Arrays.fill(row, 0f);
            } else {
                logits.get(r * vocab, row, 0, vocab);
                float lse = logSumExp.get(r);
                for (int j = 0; j < vocab; j++) {
                    row[j] = FastMath.exp(row[j] - lse) * inv;
                }
                row[t] -= inv;
            }
            dLogits.put(r * vocab, row, 0, vocab);
        }
    }
}
