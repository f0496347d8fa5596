package io.sparklora.eval;

import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;

/**
 * Scores a token stream with a causal LM, as the {@code score} command defines it: the stream is cut into consecutive,
 * non-overlapping windows of {@code seqLen} tokens (the last may be shorter); in a window of length L ≥ 2, positions
 * 1..L−1 are predicted from their prefix inside the window (so the window's first token is never predicted and no
 * context crosses a window boundary); a window of length 1 predicts nothing. The result is the mean cross-entropy over
 * every prediction of every window.
 *
 * <p>Full windows go through the model several at a time ({@code windowsPerBatch} sequences per forward); the short
 * last window goes alone. Each batch's mean loss is turned back into a sum (× its prediction count) and summed in
 * double, so the result does not depend on how windows are grouped.
 */
public final class Scorer {
    /** Window length of {@code score} when {@code --seq} is not given. */
    public static final int DEFAULT_SEQ_LEN = 128;
    /** Full windows per forward pass. */
    public static final int DEFAULT_WINDOWS_PER_BATCH = 8;

    private final int seqLen;
    private final int windowsPerBatch;

    public Scorer(int seqLen) {
        this(seqLen, DEFAULT_WINDOWS_PER_BATCH);
    }

    public Scorer(int seqLen, int windowsPerBatch) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("Invalid seq " + seqLen
                    + ": must be >= 2, a window of T tokens predicts T-1 of them");
        }
        if (windowsPerBatch < 1) {
            throw new IllegalArgumentException("Invalid windowsPerBatch " + windowsPerBatch + ": must be >= 1");
        }
        this.seqLen = seqLen;
        this.windowsPerBatch = windowsPerBatch;
    }

    public int seqLen() {
        return seqLen;
    }

    /**
     * Scores {@code tokens} with {@code lm} in evaluation mode (no dropout).
     *
     * @param name what the tokens came from (a file), for error messages
     */
    public ScoreResult score(CausalLm lm, int[] tokens, String name) {
        int n = tokens.length;
        if (n < 2) {
            throw new IllegalArgumentException("Cannot score " + name + ": need at least 2 tokens, got " + n);
        }
        int vocab = lm.config().vocabSize();
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("Cannot score " + name + ": token id " + tokens[i] + " at position "
                        + i + " is outside the model's vocabulary of " + vocab);
            }
        }
        int longest = Math.min(seqLen, n);
        if (longest > lm.config().maxPositions()) {
            throw new IllegalArgumentException("Cannot score " + name + ": window length " + longest
                    + " exceeds the model's " + lm.config().maxPositions() + " positions; pass a smaller --seq");
        }
        lm.eval();
        int fullWindows = n / seqLen;
        int lastLength = n % seqLen;
        double lossSum = 0;
        long scored = 0;
        for (int first = 0; first < fullWindows; first += windowsPerBatch) {
            int windows = Math.min(windowsPerBatch, fullWindows - first);
            Batch batch = windowBatch(tokens, first * seqLen, windows, seqLen);
            lossSum += lm.forward(batch) * batch.targetCount();
            scored += batch.targetCount();
        }
        if (lastLength >= 2) {
            Batch batch = windowBatch(tokens, fullWindows * seqLen, 1, lastLength);
            lossSum += lm.forward(batch) * batch.targetCount();
            scored += batch.targetCount();
        }
        return ScoreResult.ofSum(scored, lossSum);
    }

    /**
     * {@code windows} consecutive windows of {@code length} tokens starting at {@code start}: each position predicts the
     * next token of its own window, and the last position of each window predicts nothing.
     */
    static Batch windowBatch(int[] tokens, int start, int windows, int length) {
        int rows = windows * length;
        int[] inputs = new int[rows];
        int[] targets = new int[rows];
        System.arraycopy(tokens, start, inputs, 0, rows);
        for (int w = 0; w < windows; w++) {
            int base = w * length;
            for (int t = 0; t + 1 < length; t++) {
                targets[base + t] = inputs[base + t + 1];
            }
            targets[base + length - 1] = Batch.IGNORE;
        }
        return new Batch(windows, length, inputs, targets);
    }
}
