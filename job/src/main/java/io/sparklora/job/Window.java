package io.sparklora.job;

import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import java.util.List;

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

    /** The windows stacked row by row into one batch; all must have the same length. */
    public static Batch stack(List<Window> windows) {
        int seq = windows.get(0).seqLen();
        int[] inputs = new int[windows.size() * seq]; // (batch·seq)
        int[] targets = new int[windows.size() * seq]; // (batch·seq)
        for (int i = 0; i < windows.size(); i++) {
            System.arraycopy(windows.get(i).inputs(), 0, inputs, i * seq, seq);
            System.arraycopy(windows.get(i).targets(), 0, targets, i * seq, seq);
        }
        return new Batch(windows.size(), seq, inputs, targets);
    }

    /**
     * Mean token cross-entropy of {@code lm} over the windows, with dropout off, in batches of at most
     * {@code batchSize} windows (each batch's mean weighted by its target count); NaN when no position carries loss.
     */
    public static double meanLoss(CausalLm lm, List<Window> windows, int batchSize) {
        lm.eval();
        double sum = 0;
        long count = 0;
        for (int start = 0; start < windows.size(); start += batchSize) {
            Batch batch = stack(windows.subList(start, Math.min(start + batchSize, windows.size())));
            int n = batch.targetCount();
            sum += lm.forward(batch) * n;
            count += n;
        }
        return count == 0 ? Double.NaN : sum / count;
    }
}
