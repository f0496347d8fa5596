package io.sparklora.model;

import java.util.Arrays;

/**
 * A batch of token sequences for causal-LM training or scoring, flattened row-major: row {@code b·seqLen + t} is
 * position t of sequence b.
 *
 * @param batchSize number of sequences
 * @param seqLen    tokens per sequence
 * @param inputs    (batchSize·seqLen) input token ids
 * @param targets   (batchSize·seqLen) the id to predict at each position, or {@link #IGNORE} where no loss is taken
 *                  (prompt tokens, padding, the last position of a window). Usually {@code targets[i] = inputs[i+1]}.
 */
public record Batch(int batchSize, int seqLen, int[] inputs, int[] targets) {
    /** Target value for positions that carry no loss (Hugging Face's {@code -100}). */
    public static final int IGNORE = -100;

    public Batch {
        if (batchSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("Invalid batch: batchSize=" + batchSize + ", seqLen=" + seqLen);
        }
        int n = batchSize * seqLen;
        if (inputs.length != n || targets.length != n) {
            throw new IllegalArgumentException("Invalid batch: " + batchSize + "×" + seqLen + " needs " + n
                    + " inputs and targets, got " + inputs.length + " and " + targets.length);
        }
    }

    public int rows() {
        return batchSize * seqLen;
    }

    /** Number of positions that carry loss. */
    public int targetCount() {
        int c = 0;
        for (int t : targets) {
            if (t != IGNORE) {
                c++;
            }
        }
        return c;
    }

    /**
     * One sequence of n tokens where position i predicts token i+1 and the last position predicts nothing.
     */
    public static Batch nextTokenPrediction(int[] tokens) {
        int[] targets = new int[tokens.length];
        for (int i = 0; i + 1 < tokens.length; i++) {
            targets[i] = tokens[i + 1];
        }
        if (tokens.length > 0) {
            targets[tokens.length - 1] = IGNORE;
        }
        return new Batch(1, tokens.length, tokens.clone(), targets);
    }

    @Override
    public String toString() {
        return "Batch[" + batchSize + "×" + seqLen + ", targets=" + targetCount() + ", inputs="
                + Arrays.toString(Arrays.copyOf(inputs, Math.min(8, inputs.length))) + "…]";
    }
}
