package io.sparklora.nn;

import io.sparklora.model.Batch;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * The LM head and its mean cross-entropy over chunks of rows, so a (rows, vocab) logits matrix is never materialised
 * whole: at a 151,936-token vocabulary, 1,024 rows of logits are 622 MB, and their gradient as much again. Forward
 * computes each chunk's logits into one (chunkRows, vocab) buffer, reduces it to the rows' log-sum-exp and losses,
 * and moves on; backward recomputes each chunk's logits (one extra head GEMM), turns them into their gradient in
 * place, and takes {@code dHidden = dLogits·W} and {@code dW += dLogitsᵀ·hidden} chunk by chunk. When every row fits
 * one chunk (a byte vocabulary) the forward's logits are kept and backward recomputes nothing.
 *
 * <p>Lifecycle: one per model instance and thread; {@link #forward} then optionally {@link #backward} per step.
 */
final class LmHead {
    /** Logits kept at once by default: 8 Mi floats (32 MiB). */
    static final int DEFAULT_CHUNK_FLOATS = 1 << 23;

    private final int vocab;
    private final int dim;
    private final int chunkFloats;
    private FloatBuffer chunk; // (chunkRows, vocab) logits of the current chunk, then their gradient
    private FloatBuffer logSumExp; // (rows) of the last forward
    private int rows;
    private int chunkRows;
    private int keptRows = -1; // rows of the forward's logits still in chunk (single-chunk batches), else -1

    LmHead(int vocab, int dim, int chunkFloats) {
        if (chunkFloats < vocab) {
            throw new IllegalArgumentException("Invalid LM-head chunk of " + chunkFloats + " floats: must hold one row "
                    + "of " + vocab + " logits");
        }
        this.vocab = vocab;
        this.dim = dim;
        this.chunkFloats = chunkFloats;
    }

    /** Rows per chunk at the current batch shape. */
    int chunkRows() {
        return chunkRows;
    }

    private void shape(int rows) {
        if (rows != this.rows) {
            this.rows = rows;
            this.chunkRows = Math.min(rows, chunkFloats / vocab);
            this.chunk = Tensor.allocate(Math.multiplyExact(chunkRows, vocab));
            this.logSumExp = Tensor.allocate(rows);
        }
    }

    /**
     * Mean cross-entropy of {@code hidden·Wᵀ} against targets (ignoring {@link Batch#IGNORE}); 0 without targets.
     *
     * @param hidden (rows, dim) the final norm's output
     * @param w      (vocab, dim) the head weight (the token embedding when tied)
     */
    double forward(int rows, FloatBuffer hidden, FloatBuffer w, int[] targets) {
        shape(rows);
        double total = 0;
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            Linear.linearForward(n, dim, vocab, hidden, r0 * dim, dim, w, WeightLayout.OUT_IN, null, 0f, chunk, 0,
                    vocab);
            total += CrossEntropy.crossEntropySum(n, vocab, chunk, targets, r0, logSumExp);
        }
        keptRows = chunkRows == rows ? rows : -1;
        int count = CrossEntropy.countTargets(targets);
        return count == 0 ? 0.0 : total / count;
    }

    /**
     * Backward of {@link #forward} on the same hidden, w and targets: overwrites {@code dHidden} (rows, dim) and adds
     * the head weight's gradient into {@code dW} (null: not trained).
     */
    void backward(int rows, FloatBuffer hidden, FloatBuffer w, int[] targets, FloatBuffer dHidden, FloatBuffer dW) {
        int count = CrossEntropy.countTargets(targets);
        float inv = count == 0 ? 0f : 1f / count;
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            if (keptRows != rows) {
                Linear.linearForward(n, dim, vocab, hidden, r0 * dim, dim, w, WeightLayout.OUT_IN, null, 0f, chunk,
                        0, vocab);
            }
            CrossEntropy.crossEntropyBackwardInPlace(n, vocab, chunk, targets, r0, logSumExp, inv);
            Linear.linearBackward(n, dim, vocab, chunk, 0, vocab, hidden, r0 * dim, dim, w, WeightLayout.OUT_IN, 0f,
                    dHidden, r0 * dim, dim, dW, null);
        }
        keptRows = -1; // chunk now holds gradients
    }

    /** The full (rows, vocab) logits of hidden, computed now (for callers that want them: generation, tests). */
    Tensor logits(int rows, FloatBuffer hidden, FloatBuffer w) {
        Tensor out = Tensor.zeros(rows, vocab);
        Linear.linearForward(rows, dim, vocab, hidden, 0, dim, w, WeightLayout.OUT_IN, null, 0f, out.data(), 0, vocab);
        return out;
    }
}
