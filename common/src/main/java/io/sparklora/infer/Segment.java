package io.sparklora.infer;

/**
 * The tokens one sequence adds in a decoder step: its cache, the new tokens (appended at positions
 * {@code cache.length()…}), the adapter its rows use (null: the base alone), and which rows' logits to keep.
 *
 * @param tokens (≥ 1) token ids
 */
public record Segment(KvCache cache, int[] tokens, InferenceAdapter adapter, Logits logits) {
    /** Which rows of a segment the LM head runs on. */
    public enum Logits {
        /** Only the last new token (generation). */
        LAST,
        /** Every new token (prompt log-probabilities). */
        ALL
    }

    public Segment {
        if (cache == null || tokens == null || logits == null) {
            throw new IllegalArgumentException("Invalid segment: cache, tokens and logits are required");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("Invalid segment: no tokens");
        }
    }

    /** Rows of logits this segment gets. */
    public int logitRows() {
        return logits == Logits.ALL ? tokens.length : 1;
    }
}
