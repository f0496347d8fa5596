package io.sparklora.driver;

import io.sparklora.eval.Scorer;
import io.sparklora.infer.InferenceAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.nn.CausalLms;
import io.sparklora.route.NgramRouter;
import io.sparklora.serve.AdapterCache;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;

/**
 * What {@code score} and {@code generate} over a dataset send to their tasks: the broadcast base, the train output
 * and its adapter names, the router ({@code router.json}'s bytes, or null) and the tokenizer. Holds only serializable
 * state; {@link #open} gives a task its executor's shared base, adapter cache and router.
 *
 * <p>A row's adapter column says which model serves it: an adapter's name, {@code base}, or — {@code auto}, empty or
 * missing — the router's choice: the trained router when the output has one, else the adapter with the lowest mean
 * loss on the row's tokens (its own language model explains them best), the base for fewer than two tokens.
 */
final class RoutedRows implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String AUTO = "auto";
    static final String BASE = "base";
    private final Broadcast<BroadcastModel> base;
    private final String adaptersUri;
    private final List<String> adapters;
    private final byte[] routerJson; // null: route by loss
    private final TokenizerSpec tokenizer;
    private final HadoopConf conf;

    RoutedRows(Broadcast<BroadcastModel> base, String adaptersUri, List<String> adapters, byte[] routerJson,
               TokenizerSpec tokenizer, HadoopConf conf) {
        this.base = base;
        this.adaptersUri = adaptersUri;
        this.adapters = List.copyOf(adapters);
        this.routerJson = routerJson;
        this.tokenizer = tokenizer;
        this.conf = conf;
    }

    /** Whether a value of the adapter column asks for routing. */
    static boolean routes(String value) {
        return value == null || value.isBlank() || value.equals(AUTO);
    }

    /** The model chosen for a row: its name, whether the router chose it, the adapter (null for the base). */
    record Choice(String name, boolean routed, InferenceAdapter adapter) {
    }

    /** The executor side of one task. */
    Executor open() {
        try {
            return new Executor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    final class Executor {
        final BaseModel model = ExecutorModels.fromBroadcast(base);
        final Tokenizer tok = tokenizer.get();
        final AdapterCache cache = ExecutorAdapters.of(base.id(), adaptersUri, conf, model.config());
        private final NgramRouter router = routerJson == null ? null
                : NgramRouter.read(routerJson, adaptersUri + "/" + NgramRouter.FILE);
        private final Scorer wholeSequence = new Scorer(model.config().maxPositions());

        private Executor() throws IOException {
        }

        /**
         * The model for a row whose adapter column holds {@code value} and whose routed tokens are {@code ids};
         * {@code lossOf} is the loss router's measure (the caller may keep its results), or null for the mean loss of
         * {@code ids} as one sequence.
         */
        Choice choose(String value, int[] ids, LossOf lossOf) throws IOException {
            if (!routes(value)) {
                return value.equals(BASE) ? new Choice(BASE, false, null) : new Choice(value, false, adapter(value));
            }
            if (adapters.isEmpty() || ids.length < 2) {
                return new Choice(BASE, true, null);
            }
            if (router != null) {
                String name = router.route(ids);
                if (adapters.contains(name)) {
                    return new Choice(name, true, adapter(name));
                }
            }
            String best = null;
            double bestLoss = Double.POSITIVE_INFINITY;
            for (String name : adapters) {
                InferenceAdapter a = adapter(name);
                double loss = lossOf != null ? lossOf.of(a)
                        : wholeSequence.score(CausalLms.withAdapter(model, a.adapter()), ids, "row").meanLoss();
                if (loss < bestLoss) {
                    best = name;
                    bestLoss = loss;
                }
            }
            return new Choice(best, true, adapter(best));
        }

        InferenceAdapter adapter(String name) throws IOException {
            try {
                return cache.get(name);
            } catch (AdapterCache.UnknownAdapterException e) { // checked on the driver: removed since
                throw new IOException("Cannot use adapter " + name + " of " + adaptersUri + ": " + e.getMessage(), e);
            }
        }
    }

    /** One input row to its output row. */
    interface RowFunction {
        org.apache.spark.sql.Row apply(org.apache.spark.sql.Row row) throws IOException;
    }

    /** The rows mapped one at a time as Spark pulls them (a partition is never held whole). */
    static java.util.Iterator<org.apache.spark.sql.Row> map(java.util.Iterator<org.apache.spark.sql.Row> rows,
                                                            RowFunction f) {
        return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public org.apache.spark.sql.Row next() {
                try {
                    return f.apply(rows.next());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    /** The input row's values followed by {@code added} empty slots for the job's columns. */
    static Object[] extended(org.apache.spark.sql.Row r, int added) {
        Object[] values = new Object[r.length() + added];
        for (int i = 0; i < r.length(); i++) {
            values[i] = r.get(i);
        }
        return values;
    }

    /** The loss router's measure of one adapter on the row. */
    interface LossOf {
        double of(InferenceAdapter adapter);
    }
}
