package io.sparklora.driver;

import io.sparklora.eval.ScoreResult;
import io.sparklora.eval.Scorer;
import io.sparklora.infer.InferenceAdapter;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code score --data}: every row's text scored under its adapter, on Spark. Each row's tokens are exactly those of
 * {@code score --text-file} on a file holding that text (the tokenizer's ids, no BOS), windowed by {@code --seq} the
 * same way ({@link Scorer}), so a row's loss is the single-file command's. Adds the columns {@code adapter} (the model
 * that scored it), {@code routed}, {@code loss} (mean nats per scored token), {@code tokens} (tokens scored) and
 * {@code error} (why a row has no loss: fewer than two tokens, a token outside the vocabulary).
 */
public final class SparkScoreJob {
    static final StructType ADDED = new StructType().add("adapter", DataTypes.StringType)
            .add("routed", DataTypes.BooleanType).add("loss", DataTypes.DoubleType)
            .add("tokens", DataTypes.LongType).add("error", DataTypes.StringType);

    private SparkScoreJob() {
    }

    public static void run(org.apache.spark.sql.SparkSession spark, String model, String adapters, String data,
                           String dataFormat, String adapterColumn, String textColumn, Integer seq, String out,
                           String outFormat, PrintStream log) throws IOException {
        DatasetJob job = new DatasetJob(spark, new DatasetJob.Options("score", model, adapters, data, dataFormat,
                adapterColumn, textColumn, out, outFormat), List.of(ADDED.fieldNames()));
        int maxSeq = job.model.config().maxPositions();
        int window = seq != null ? seq : Math.min(Scorer.DEFAULT_SEQ_LEN, maxSeq);
        if (window < 2 || window > maxSeq) {
            throw new IllegalArgumentException("Invalid --seq " + window + ": must be between 2 and the model's max "
                    + "positions " + maxSeq);
        }
        RoutedRows routing = job.prepare();
        job.sc.setJobDescription("spark-lora score: rows of " + data + " under their adapter");
        Task task = new Task(routing, job.adapterColumn, job.inputColumn, window);
        job.write(job.rows.javaRDD().mapPartitions(task::call), ADDED);
        log.println("Wrote " + out);
    }

    /** One partition of rows. */
    static final class Task implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RoutedRows routing;
        private final int adapterColumn;
        private final int textColumn;
        private final int seq;

        Task(RoutedRows routing, int adapterColumn, int textColumn, int seq) {
            this.routing = routing;
            this.adapterColumn = adapterColumn;
            this.textColumn = textColumn;
            this.seq = seq;
        }

        Iterator<Row> call(Iterator<Row> rows) {
            RoutedRows.Executor ex = routing.open();
            Scorer scorer = new Scorer(seq);
            return RoutedRows.map(rows, r -> {
                Object v = r.get(adapterColumn);
                Object text = r.get(textColumn);
                int[] ids = text == null ? new int[0] : ex.tok.encode(text.toString());
                Map<String, Object> scored = new HashMap<>(); // adapter name -> ScoreResult or error message
                RoutedRows.Choice c = ex.choose(v == null ? null : v.toString(), ids, a -> {
                    Object s = score(scorer, ex, a, ids);
                    scored.put(a.name(), s);
                    return s instanceof ScoreResult sr ? sr.meanLoss() : Double.POSITIVE_INFINITY;
                });
                Object s = scored.containsKey(c.name()) ? scored.get(c.name()) : score(scorer, ex, c.adapter(), ids);
                Object[] values = RoutedRows.extended(r, ADDED.size());
                int at = r.length();
                values[at] = c.name();
                values[at + 1] = c.routed();
                values[at + 2] = s instanceof ScoreResult sr ? sr.meanLoss() : null;
                values[at + 3] = s instanceof ScoreResult sr ? sr.tokensScored() : 0L;
                values[at + 4] = s instanceof String msg ? msg : null;
                return RowFactory.create(values);
            });
        }

        /** The row's ScoreResult under {@code adapter} (null: the base), or the message of why it cannot be scored. */
        private static Object score(Scorer scorer, RoutedRows.Executor ex, InferenceAdapter adapter, int[] ids) {
            CausalLm lm = adapter == null ? CausalLms.of(ex.model) : CausalLms.withAdapter(ex.model, adapter.adapter());
            try {
                return scorer.score(lm, ids, "the row");
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
    }
}
