package io.sparklora.driver;

import io.sparklora.generate.Sampling;
import io.sparklora.infer.Generation;
import io.sparklora.infer.KvDecoder;
import io.sparklora.infer.Segment;
import io.sparklora.infer.StopStrings;
import io.sparklora.infer.TextStream;
import io.sparklora.tokenizer.EncodedRow;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code generate --data}: a continuation of every row's prompt under its adapter, on Spark, decoded as
 * {@code generate --prompt} decodes (the prompt with the tokenizer's BOS, the key/value-cache decoder, the same
 * sampling seed for every row, the checkpoint's EOS ids and the stop strings), so a row's completion is the
 * single-prompt command's. Routed rows go by the prompt's ids. Adds {@code adapter}, {@code routed},
 * {@code completion}, {@code completion_tokens}, {@code finish_reason} ({@code length}, {@code stop}, {@code eos} or
 * {@code context}) and {@code error} (a prompt with no token or longer than the context).
 */
public final class SparkGenerateJob {
    static final StructType ADDED = new StructType().add("adapter", DataTypes.StringType)
            .add("routed", DataTypes.BooleanType).add("completion", DataTypes.StringType)
            .add("completion_tokens", DataTypes.IntegerType).add("finish_reason", DataTypes.StringType)
            .add("error", DataTypes.StringType);

    private SparkGenerateJob() {
    }

    public static void run(SparkSession spark, String model, String adapters, String data, String dataFormat,
                           String adapterColumn, String promptColumn, Sampling sampling, List<String> stop,
                           String out, String outFormat, PrintStream log) throws IOException {
        DatasetJob job = new DatasetJob(spark, new DatasetJob.Options("generate", model, adapters, data, dataFormat,
                adapterColumn, promptColumn, out, outFormat), List.of(ADDED.fieldNames()));
        new StopStrings(stop); // checks them here, once
        int[] eos = ModelStore.eosIds(job.model, job.sc.hadoopConfiguration());
        RoutedRows routing = job.prepare();
        job.sc.setJobDescription("spark-lora generate: prompts of " + data + " under their adapter");
        Task task = new Task(routing, job.adapterColumn, job.inputColumn, sampling, stop, eos);
        job.write(job.rows.javaRDD().mapPartitions(task::call), ADDED);
        log.println("Wrote " + out);
    }

    /** One partition of rows; one decoder per task, reused for every row. */
    static final class Task implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RoutedRows routing;
        private final int adapterColumn;
        private final int promptColumn;
        private final int maxNewTokens; // the Sampling (a record, not Serializable)
        private final double temperature;
        private final double topP;
        private final long seed;
        private final List<String> stop;
        private final int[] eos;

        Task(RoutedRows routing, int adapterColumn, int promptColumn, Sampling sampling, List<String> stop,
             int[] eos) {
            this.routing = routing;
            this.adapterColumn = adapterColumn;
            this.promptColumn = promptColumn;
            this.maxNewTokens = sampling.maxNewTokens();
            this.temperature = sampling.temperature();
            this.topP = sampling.topP();
            this.seed = sampling.seed();
            this.stop = List.copyOf(stop);
            this.eos = eos.clone();
        }

        Iterator<Row> call(Iterator<Row> rows) {
            RoutedRows.Executor ex = routing.open();
            int context = ex.model.config().maxPositions();
            KvDecoder decoder = KvDecoder.create(ex.model, context, context);
            Sampling sampling = new Sampling(maxNewTokens, temperature, topP, seed);
            return RoutedRows.map(rows, r -> {
                Object v = r.get(adapterColumn);
                Object prompt = r.get(promptColumn);
                int[] ids = prompt == null ? new int[0] : EncodedRow.prompt(ex.tok, prompt.toString());
                RoutedRows.Choice c = ex.choose(v == null ? null : v.toString(), ids, null);
                Object[] values = RoutedRows.extended(r, ADDED.size());
                int at = r.length();
                values[at] = c.name();
                values[at + 1] = c.routed();
                try {
                    Generation g = new Generation(decoder.newCache(), c.adapter(), ids, sampling, eos,
                            Segment.Logits.LAST);
                    TextStream text = new TextStream(ex.tok, new StopStrings(stop));
                    StringBuilder completion = new StringBuilder();
                    g.runAlone(decoder, id -> {
                        completion.append(text.accept(id));
                        return !text.stopped();
                    });
                    completion.append(text.finish());
                    values[at + 2] = completion.toString();
                    values[at + 3] = g.tokens().length;
                    values[at + 4] = g.finish().name().toLowerCase(Locale.ROOT);
                } catch (IllegalArgumentException e) { // no prompt token, a prompt longer than the context
                    values[at + 5] = e.getMessage();
                }
                return RowFactory.create(values);
            });
        }
    }
}
