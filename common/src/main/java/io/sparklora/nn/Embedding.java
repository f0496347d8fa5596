package io.sparklora.nn;

import java.nio.FloatBuffer;
import java.util.function.IntUnaryOperator;

/** Token embedding lookup (and GPT-2's learned positions) with its scatter-add backward. */
public final class Embedding {
    private Embedding() {
    }

    /**
     * {@code y[r] = table[tokens[r]]} for rows r; fails naming the row and token when an id is outside the vocabulary.
     *
     * @param table (vocab, dim)
     * @param y     (rows, dim) written
     */
    public static void embeddingForward(int rows, int vocab, int dim, int[] tokens, FloatBuffer table, FloatBuffer y) {
        for (int r = 0; r < rows; r++) {
            int t = tokens[r];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("Cannot embed token " + t + " at row " + r
                        + ": outside the vocabulary of size " + vocab);
            }
            y.put(r * dim, table, t * dim, dim);
        }
    }

    /** {@code dTable[tokens[r]] += dy[r]}, a row at a time through heap arrays (not per-element buffer access). */
    public static void embeddingBackward(int rows, int dim, int[] tokens, FloatBuffer dy, FloatBuffer dTable) {
        float[] g = new float[dim];
        float[] acc = new float[dim];
        for (int r = 0; r < rows; r++) {
            int o = tokens[r] * dim;
            dy.get(r * dim, g, 0, dim);
            dTable.get(o, acc, 0, dim);
            for (int j = 0; j < dim; j++) {
                acc[j] += g[j];
            }
            dTable.put(o, acc, 0, dim);
        }
    }

    /** GPT-2's learned positions: {@code y[r] += wpe[r mod seq]}, positions 0..seq-1 in every sequence. */
    public static void positionsForward(int rows, int seq, int dim, FloatBuffer wpe, FloatBuffer y) {
        positionsForward(rows, r -> r % seq, dim, wpe, y);
    }

    /** {@code y[r] += wpe[positions[r]]}: rows of several sequences at their own positions (a decoder step). */
    public static void positionsForwardAt(int rows, int[] positions, int dim, FloatBuffer wpe, FloatBuffer y) {
        positionsForward(rows, r -> positions[r], dim, wpe, y);
    }

    private static void positionsForward(int rows, IntUnaryOperator position, int dim, FloatBuffer wpe,
                                         FloatBuffer y) {
        for (int r = 0; r < rows; r++) {
            int p = position.applyAsInt(r) * dim;
            for (int j = 0; j < dim; j++) {
                y.put(r * dim + j, y.get(r * dim + j) + wpe.get(p + j));
            }
        }
    }

    /** {@code dWpe[r mod seq] += dy[r]}. */
    public static void positionsBackward(int rows, int seq, int dim, FloatBuffer dy, FloatBuffer dWpe) {
        for (int r = 0; r < rows; r++) {
            int p = (r % seq) * dim;
            for (int j = 0; j < dim; j++) {
                dWpe.put(p + j, dWpe.get(p + j) + dy.get(r * dim + j));
            }
        }
    }
}
