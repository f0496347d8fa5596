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
        int count = countTargets(targets, rows);
        double total = crossEntropySum(rows, vocab, logits, targets, 0, logSumExp);
        return count == 0 ? 0.0 : total / count;
    }

    /** Writes (overwrites) dLogits = (softmax − onehot(target)) / count on counted rows, 0 on ignored rows. */
    public static void crossEntropyBackward(int rows, int vocab, FloatBuffer logits, int[] targets,
                                            FloatBuffer logSumExp, FloatBuffer dLogits) {
        int count = countTargets(targets, rows);
        softmaxMinusOneHot(rows, vocab, logits, targets, 0, logSumExp, count == 0 ? 0f : 1f / count, dLogits);
    }

    /** The rows whose target is not {@link Batch#IGNORE}: the mean's denominator. */
    public static int countTargets(int[] targets) {
        return countTargets(targets, targets.length);
    }

    private static int countTargets(int[] targets, int rows) {
        int count = 0;
        for (int r = 0; r < rows; r++) {
            count += targets[r] != Batch.IGNORE ? 1 : 0;
        }
        return count;
    }

    /**
     * One chunk of rows of {@link #crossEntropyForward}: rows {@code r0 .. r0+n} of the batch, whose logits are the n
     * rows of {@code logits}. Returns the sum (not the mean) of their losses and writes {@code logSumExp[r0 + i]}.
     */
    public static double crossEntropySum(int n, int vocab, FloatBuffer logits, int[] targets, int r0,
                                         FloatBuffer logSumExp) {
        float[] row = new float[vocab];
        double total = 0;
        for (int i = 0; i < n; i++) {
            logits.get(i * vocab, row, 0, vocab);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) {
                max = Math.max(max, row[j]);
            }
            double s = 0;
            for (int j = 0; j < vocab; j++) {
                s += FastMath.exp(row[j] - max);
            }
            double lse = max + Math.log(s);
            logSumExp.put(r0 + i, (float) lse);
            int t = targets[r0 + i];
            if (t == Batch.IGNORE) {
                continue;
            }
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("Cannot score target " + t + " at row " + (r0 + i)
                        + ": outside the vocabulary of size " + vocab);
            }
            total += lse - row[t];
        }
        return total;
    }

    /**
     * One chunk of {@link #crossEntropyBackward}, in place: the n rows of {@code logits} (rows r0.. of the batch)
     * become {@code (softmax − onehot(target)) · inv}, 0 on ignored rows; inv is 1 / the batch's target count.
     */
    public static void crossEntropyBackwardInPlace(int n, int vocab, FloatBuffer logits, int[] targets, int r0,
                                                   FloatBuffer logSumExp, float inv) {
        softmaxMinusOneHot(n, vocab, logits, targets, r0, logSumExp, inv, logits);
    }

    /** Rows r0.. of the batch, the n rows of {@code logits}: {@code out} (which may be logits) gets the gradient. */
    private static void softmaxMinusOneHot(int n, int vocab, FloatBuffer logits, int[] targets, int r0,
                                           FloatBuffer logSumExp, float inv, FloatBuffer out) {
        float[] row = new float[vocab];
        for (int i = 0; i < n; i++) {
            int t = targets[r0 + i];
            if (t == Batch.IGNORE) {
                java.util.Arrays.fill(row, 0f);
            } else {
                logits.get(i * vocab, row, 0, vocab);
                float lse = logSumExp.get(r0 + i);
                for (int j = 0; j < vocab; j++) {
                    row[j] = FastMath.exp(row[j] - lse) * inv;
                }
                row[t] -= inv;
            }
            out.put(i * vocab, row, 0, vocab);
        }
    }
}
