package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.job.Window;
import io.sparklora.model.Batch;
import io.sparklora.route.NgramCounts;
import io.sparklora.route.NgramRouter;
import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import scala.Tuple2;

/**
 * The two tasks of {@link RouterFit} over partition i = the rows of adapter i in content order
 * ({@link AdapterBins#sorted}), streamed into windows exactly as training packed them ({@link KeyWindows}: same
 * windows, same held-out split, spilled past {@code spillRows} or the heap share as training spilled them):
 * {@link #count} counts the n-grams of the training windows, {@link #confusion} classifies the held-out windows with
 * the fitted router. Each packs the adapter's rows again from the shuffle, so a retried attempt sees the same windows;
 * its spill file is deleted when the attempt ends, however it ends. Holds only serializable state.
 */
final class RouterTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final TrainSpec template;
    private final List<AdapterPlan> plans;
    private final TokenizerSpec tokenizer;
    private final int order;
    private final int buckets;
    private final long spillRows; // an adapter of more rows packs its windows into a spill file

    RouterTask(TrainSpec template, List<AdapterPlan> plans, TokenizerSpec tokenizer, int order, int buckets,
               long spillRows) {
        this.template = template;
        this.plans = List.copyOf(plans);
        this.tokenizer = tokenizer;
        this.order = order;
        this.buckets = buckets;
        this.spillRows = spillRows;
    }

    /** The n-gram counts of the adapter's training windows (one example per window). */
    Iterator<NgramCounts> count(int index, Iterator<Tuple2<Integer, TrainRow>> rows) throws IOException {
        NgramCounts counts = new NgramCounts(plans.get(index).name(), order, buckets);
        try (KeyWindows windows = pack(index, rows)) {
            for (Window w : windows.data().train()) {
                counts.add(w.inputs(), 0, length(w));
            }
        }
        return List.of(counts).iterator();
    }

    /** Tokens of the short-prompt figure: each held-out window's first ones alone, as a short prompt would be. */
    static final int PREFIX_TOKENS = 32;

    /**
     * {partition, predicted class of each held-out window counted by class..., windows whose first
     * {@link #PREFIX_TOKENS} tokens alone are routed right, 1 when the windows were in a spill file else 0}: one row
     * of the confusion matrix, the short-prompt count and where the windows were.
     */
    Iterator<long[]> confusion(byte[] routerJson, int index, Iterator<Tuple2<Integer, TrainRow>> rows)
            throws IOException {
        NgramRouter router = NgramRouter.read(routerJson, NgramRouter.FILE);
        long[] row = new long[plans.size() + 3];
        row[0] = index;
        try (KeyWindows windows = pack(index, rows)) {
            for (Window w : windows.data().heldOut()) {
                int n = length(w);
                row[1 + router.classify(w.inputs(), 0, n)]++;
                int prefix = router.classify(w.inputs(), 0, Math.min(n, PREFIX_TOKENS));
                row[1 + plans.size()] += prefix == index ? 1 : 0;
            }
            row[2 + plans.size()] = windows.windowsIn().equals(KeyWindows.SPILL_FILE) ? 1 : 0;
        }
        return List.of(row).iterator();
    }

    /** The adapter's windows, streamed from its (index, row) pairs in content order as training packed them. */
    private KeyWindows pack(int index, Iterator<Tuple2<Integer, TrainRow>> rows) throws IOException {
        AdapterPlan plan = plans.get(index);
        TrainSpec spec = TrainJobSpecs.named(template, plan.name());
        return KeyWindows.pack(tokenizer, spillRows, spec, "router: adapter " + plan.name(), plan,
                new AdapterBins.Rows<>(rows).of(index));
    }

    /**
     * The window's real tokens: up to the input that the last target names (the packer pads the last window with id
     * 0 and no target, and a padded position is not text of the partition).
     */
    static int length(Window w) {
        int[] t = w.targets();
        for (int i = t.length - 1; i >= 0; i--) {
            if (t[i] != Batch.IGNORE) {
                return Math.min(t.length, i + 2);
            }
        }
        return 0;
    }
}
