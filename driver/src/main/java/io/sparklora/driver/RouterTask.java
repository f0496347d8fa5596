package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.job.Window;
import io.sparklora.model.Batch;
import io.sparklora.route.NgramCounts;
import io.sparklora.route.NgramRouter;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import scala.Tuple2;

/**
 * The two tasks of {@link RouterFit} over partition i = the rows of adapter i, packed exactly as training packed them
 * ({@link AdapterTask#pack}: same windows, same held-out split): {@link #count} counts the n-grams of the training
 * windows, {@link #confusion} classifies the held-out windows with the fitted router. Holds only serializable state.
 */
final class RouterTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final TrainSpec template;
    private final List<AdapterPlan> plans;
    private final TokenizerSpec tokenizer;
    private final int order;
    private final int buckets;

    RouterTask(TrainSpec template, List<AdapterPlan> plans, TokenizerSpec tokenizer, int order, int buckets) {
        this.template = template;
        this.plans = List.copyOf(plans);
        this.tokenizer = tokenizer;
        this.order = order;
        this.buckets = buckets;
    }

    /** The n-gram counts of the adapter's training windows (one example per window). */
    Iterator<NgramCounts> count(int index, Iterator<Tuple2<Integer, TrainRow>> rows) {
        NgramCounts counts = new NgramCounts(plans.get(index).name(), order, buckets);
        for (Window w : pack(index, rows).train()) {
            counts.add(w.inputs(), 0, length(w));
        }
        return List.of(counts).iterator();
    }

    /** Tokens of the short-prompt figure: each held-out window's first ones alone, as a short prompt would be. */
    static final int PREFIX_TOKENS = 32;

    /**
     * {partition, predicted class of each held-out window counted by class..., windows whose first
     * {@link #PREFIX_TOKENS} tokens alone are routed right}: one row of the confusion matrix and the short-prompt count.
     */
    Iterator<long[]> confusion(byte[] routerJson, int index, Iterator<Tuple2<Integer, TrainRow>> rows)
            throws IOException {
        NgramRouter router = NgramRouter.read(routerJson, NgramRouter.FILE);
        long[] row = new long[plans.size() + 2];
        row[0] = index;
        for (Window w : pack(index, rows).heldOut()) {
            int n = length(w);
            row[1 + router.classify(w.inputs(), 0, n)]++;
            row[row.length - 1] += router.classify(w.inputs(), 0, Math.min(n, PREFIX_TOKENS)) == index ? 1 : 0;
        }
        return List.of(row).iterator();
    }

    private io.sparklora.job.PackedData pack(int index, Iterator<Tuple2<Integer, TrainRow>> rows) {
        List<TrainRow> own = new ArrayList<>();
        rows.forEachRemaining(t -> own.add(t._2()));
        TrainSpec spec = TrainJobSpecs.named(template, plans.get(index).name());
        return AdapterTask.pack(tokenizer.get(), spec, own.iterator()).data();
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
