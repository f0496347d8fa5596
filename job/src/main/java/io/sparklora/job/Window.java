package io.sparklora.job;

/**
 * One packed training window.
 *
 * @param inputs  (seqLen) token ids; padding is id 0
 * @param targets (seqLen) the next token to predict at each position, or {@link io.sparklora.model.Batch#IGNORE}
 *                (prompt tokens, the last token of a row, padding)
 */
public record Window(int[] inputs, int[] targets) {
    public Window {
        if (inputs.length != targets.length) {
            throw new IllegalArgumentException("Invalid window: " + inputs.length + " inputs, " + targets.length
                    + " targets");
        }
    }

    public int seqLen() {
        return inputs.length;
    }
}
