package io.sparklora.tokenizer;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One training row as token ids, following the tokenizer's conventions ({@link #text}, {@link #promptCompletion}):
 * {@code [bos] + ids + [eos]}, with the BOS only where the tokenizer adds one and the EOS wherever it has one, so a
 * fine-tuned model learns to end its answers. Position i predicts token i+1; positions before {@link #lossFrom()}
 * predict nothing (a prompt). A plain serializable value: it travels from the tokenizing executor to the training task.
 *
 * @param tokens   (length) the row's ids
 * @param lossFrom the first token that is a prediction target (≥ 1): 1 for text, the completion's first token for
 *                 prompt/completion rows
 */
public record EncodedRow(int[] tokens, int lossFrom) implements Serializable {
    private static final long serialVersionUID = 1L;

    public EncodedRow {
        if (tokens.length < 2 || lossFrom < 1 || lossFrom >= tokens.length) {
            throw new IllegalArgumentException("Invalid encoded row: " + tokens.length + " tokens with loss from "
                    + lossFrom + " (need at least 2 tokens and a target)");
        }
    }

    /**
     * A text row: every token from the first after the start predicts its successor. Null when the text gives fewer
     * than two tokens in all (nothing to learn).
     */
    public static EncodedRow text(Tokenizer tokenizer, String text) {
        SpecialTokens s = tokenizer.specialTokens();
        int[] ids = tokenizer.encode(text);
        if (ids.length == 0) {
            return null;
        }
        int[] row = concat(s, ids, new int[0]);
        return row.length < 2 ? null : new EncodedRow(row, 1);
    }

    /**
     * A prompt/completion row: prompt and completion tokenized separately (so the boundary is exact) and
     * concatenated; the loss covers the completion and the EOS. Null for an empty completion.
     */
    public static EncodedRow promptCompletion(Tokenizer tokenizer, String prompt, String completion) {
        SpecialTokens s = tokenizer.specialTokens();
        int[] p = tokenizer.encode(prompt);
        int[] c = tokenizer.encode(completion);
        if (c.length == 0) {
            return null;
        }
        int[] row = concat(s, p, c);
        int lossFrom = Math.max(1, (s.hasBos() ? 1 : 0) + p.length);
        return row.length < 2 ? null : new EncodedRow(row, lossFrom);
    }

    /** The ids a prompt is generated from: {@code [bos] + ids}, no EOS. */
    public static int[] prompt(Tokenizer tokenizer, String prompt) {
        SpecialTokens s = tokenizer.specialTokens();
        int[] ids = tokenizer.encode(prompt);
        if (!s.hasBos()) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = s.bos();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    private static int[] concat(SpecialTokens s, int[] a, int[] b) {
        int start = s.hasBos() ? 1 : 0;
        int[] row = new int[start + a.length + b.length + (s.hasEos() ? 1 : 0)];
        if (s.hasBos()) {
            row[0] = s.bos();
        }
        System.arraycopy(a, 0, row, start, a.length);
        System.arraycopy(b, 0, row, start + a.length, b.length);
        if (s.hasEos()) {
            row[row.length - 1] = s.eos();
        }
        return row;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedRow r && lossFrom == r.lossFrom && Arrays.equals(tokens, r.tokens);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokens) + lossFrom;
    }

    @Override
    public String toString() {
        return "EncodedRow" + Arrays.toString(tokens) + " loss from " + lossFrom;
    }
}
