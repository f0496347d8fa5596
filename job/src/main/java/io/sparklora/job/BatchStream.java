package io.sparklora.job;

import io.sparklora.model.Batch;
import io.sparklora.util.SplitMix64;
import java.util.List;

/**
 * The training windows as an endless stream of batches: each epoch is a fresh seeded shuffle of the windows, and
 * batches take consecutive windows of it (a batch may span two epochs). Its position is three numbers — the epoch, the
 * cursor in the epoch's order, and the data-order generator's state before that epoch's shuffle — so a checkpoint can
 * put it back exactly ({@link #position()} / {@link #restore}).
 */
public final class BatchStream {
    private static final long ORDER_SALT = 0x6f72_6465_7231L; // "order1"

    /** Where the stream stands: the state reproduces the epoch's shuffle, the cursor the place in it. */
    public record Position(long epoch, int cursor, long epochRngState) {
    }

    private final List<Window> windows;
    private final int batchSize;
    private final int seqLen;
    private final SplitMix64 rng;
    private final int[] order; // (windows) the current epoch's permutation
    private long epoch;
    private int cursor;
    private long epochRngState;

    public BatchStream(List<Window> windows, int batchSize, long seed) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("Cannot stream batches: no training windows");
        }
        this.windows = windows;
        this.batchSize = batchSize;
        this.seqLen = windows.get(0).seqLen();
        this.rng = new SplitMix64(seed ^ ORDER_SALT);
        this.order = new int[windows.size()];
        startEpoch(0, rng.state());
    }

    private void startEpoch(long e, long rngState) {
        epoch = e;
        cursor = 0;
        epochRngState = rngState;
        rng.setState(rngState);
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) { // Fisher–Yates
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** The next batchSize windows as one batch. */
    public Batch next() {
        int[] inputs = new int[batchSize * seqLen];
        int[] targets = new int[batchSize * seqLen];
        for (int b = 0; b < batchSize; b++) {
            if (cursor == order.length) {
                startEpoch(epoch + 1, rng.state());
            }
            Window w = windows.get(order[cursor++]);
            System.arraycopy(w.inputs(), 0, inputs, b * seqLen, seqLen);
            System.arraycopy(w.targets(), 0, targets, b * seqLen, seqLen);
        }
        return new Batch(batchSize, seqLen, inputs, targets);
    }

    public Position position() {
        return new Position(epoch, cursor, epochRngState);
    }

    /** Puts the stream back where {@link #position()} was taken. */
    public void restore(Position p) {
        if (p.cursor() < 0 || p.cursor() > order.length) {
            throw new IllegalArgumentException("Cannot restore data position: cursor " + p.cursor()
                    + " outside an epoch of " + order.length + " windows");
        }
        startEpoch(p.epoch(), p.epochRngState());
        cursor = p.cursor();
    }
}
