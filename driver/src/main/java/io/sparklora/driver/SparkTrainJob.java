package io.sparklora.driver;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The {@code train} job on the driver: check the inputs, plan one adapter per key, broadcast the base, train the
 * missing adapters in one Spark stage (partition i = adapter i), write manifest.json, print the summary table.
 *
 * <p>Every check that can fail on the user's input (model, data, columns, keys, output) runs before any training
 * and before anything is written. Re-runs train only adapters whose directory is not complete.
 */
public final class SparkTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(SparkTrainJob.class);
    /** Spark conf key of the fault-injection test hook ({@code <adapter>:<step>}). */
    public static final String FAIL_AT_STEP = "spark.sparklora.test.failAtStep";

    private SparkTrainJob() {
    }

    /** What the run did. */
    public record Summary(int trained, int existing, int skipped, ObjectNode manifest) {
    }

    public static Summary run(SparkSession spark, TrainRequest r, PrintStream out) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        sc.setJobGroup("spark-lora-train", "spark-lora train " + r.out(), false);

        // 1. The base model: config, tokenizer, weights present.
        ModelStore.ModelInfo model = ModelStore.describe(r.model(), conf);
        ModelConfig config = model.config();
        LoraConfig lora = r.lora().withTargetModules(r.targets() != null ? r.targets()
                : LoraConfig.defaultTargets(config));
        lora.resolve(config); // fails early on targets this family does not have
        TrainSpec template = TrainJobSpecs.withLora(r.template(), lora);
        if (template.seqLen() > config.maxPositions()) {
            throw new IllegalArgumentException("Invalid --seq " + template.seqLen() + ": the base model has "
                    + config.maxPositions() + " positions");
        }

        long t0 = System.nanoTime();
        // 2. The data and the plan.
        sc.setJobDescription("spark-lora: read data and count rows per key");
        TrainData.Read data = TrainData.read(spark, r.data());
        Plan plan = plan(data, r.data(), model.tokenizer());

        // 3. The output must be writable; then nothing more can fail on the user's input.
        probeOutput(r.out(), conf);
        AdapterStore store = new AdapterStore(r.out(), conf);
        List<AdapterPlan> toTrain = new ArrayList<>();
        for (AdapterPlan p : plan.adapters()) {
            if (!store.isComplete(p.name())) {
                toTrain.add(new AdapterPlan(p.name(), p.key(), toTrain.size(), p.rows()));
            }
        }
        for (Manifest.Skipped s : plan.skipped()) {
            LOG.warn("Skipping key {}: {}", s.key(), s.reason());
            out.println("Skipping key " + s.key() + ": " + s.reason());
        }
        if (data.malformedSkipped() > 0) {
            out.println("Skipped " + data.malformedSkipped() + " malformed line(s) of " + r.data().path());
        }
        out.println("Adapters: " + plan.adapters().size() + " planned, " + toTrain.size() + " to train, "
                + (plan.adapters().size() - toTrain.size()) + " already complete");

        long t1 = System.nanoTime();
        String baseUri = model.uri();
        String baseSha = ModelStore.sha256(baseUri, conf);
        Map<String, String> status = new HashMap<>();
        if (!toTrain.isEmpty()) {
            String outUri = FileSystem.get(new Path(r.out()).toUri(), conf).makeQualified(new Path(r.out())).toString();
            TrainJobSpec job = new TrainJobSpec(template, toTrain, outUri, baseUri, baseSha, model.tokenizer(),
                    r.progressSeconds(), spark.conf().get(FAIL_AT_STEP, null),
                    List.of(io.sparklora.cli.Versions.sparkLora(), spark.version(),
                            System.getProperty("java.version")));
            Broadcast<BroadcastModel> broadcast = null;
            if (!r.baseOnExecutors()) {
                BaseModel base = ModelStore.load(baseUri, conf);
                broadcast = sc.broadcast(BroadcastModel.of(base));
            }
            sc.setJobDescription("spark-lora: train " + toTrain.size() + " LoRA adapter(s) (rank " + lora.rank()
                    + ", " + (template.steps() > 0 ? template.steps() + " steps" : template.epochs() + " epochs")
                    + ")");
            List<AdapterOutcome> outcomes = trainStage(data, toTrain, new AdapterTask(broadcast, job,
                    new HadoopConf(conf)));
            for (AdapterOutcome o : outcomes) {
                status.put(o.name, o.trained ? "trained" : "existing");
            }
            if (broadcast != null) {
                broadcast.destroy();
            }
            FileSystem fs = store.fs();
            Path ckpt = new Path(outUri, AdapterTask.CHECKPOINTS);
            if (fs.exists(ckpt) && fs.listStatus(ckpt).length == 0) {
                fs.delete(ckpt, true);
            }
        }
        long t2 = System.nanoTime();
        sc.setJobDescription(null);
        ObjectNode manifest = Manifest.write(store, r.out(), conf, Manifest.jobJson(r, model, baseSha),
                plan.adapters(), status, plan.skipped(), data.malformedSkipped());
        printTable(manifest, out);
        out.printf("Planning %.1f s, training stage %.1f s (%d adapter(s)), manifest %.1f s%n", (t1 - t0) / 1e9,
                (t2 - t1) / 1e9, toTrain.size(), (System.nanoTime() - t2) / 1e9);
        int trained = (int) status.values().stream().filter("trained"::equals).count();
        return new Summary(trained, plan.adapters().size() - trained, plan.skipped().size(), manifest);
    }

    /** The adapters to train, in key order, and the keys that get none. */
    record Plan(List<AdapterPlan> adapters, List<Manifest.Skipped> skipped) {
    }

    /**
     * Counts rows and trainable rows (at least two tokens) per key in one Spark aggregation; keys with no trainable
     * row are skipped. Fails when the data has no rows or no key can be trained.
     */
    static Plan plan(TrainData.Read data, DataOptions o, TokenizerSpec tokenizer) {
        UDF3<String, String, String, Integer> trainable = (t, p, c) ->
                new TrainRow(t, p, c).trainable(tokenizer.get()) ? 1 : 0;
        List<Row> counts = data.rows()
                .withColumn("_ok", functions.udf(trainable, DataTypes.IntegerType)
                        .apply(col(TrainData.TEXT), col(TrainData.PROMPT), col(TrainData.COMPLETION)))
                .groupBy(col(TrainData.KEY)).agg(count(lit(1)).as("rows"), sum(col("_ok")).as("ok"))
                .collectAsList();
        Map<String, long[]> byKey = new TreeMap<>(); // original key -> {rows, trainable rows}
        long total = 0;
        for (Row row : counts) {
            String k = row.getString(0);
            byKey.put(k.equals(TrainData.NULL_KEY) ? null : k, new long[] {row.getLong(1), row.getLong(2)});
            total += row.getLong(1);
        }
        if (total == 0) {
            throw new IllegalArgumentException("Cannot train: the data " + o.path() + " has no rows");
        }
        List<String> keys = new ArrayList<>();
        List<Manifest.Skipped> skipped = new ArrayList<>();
        if (o.shards() > 0) {
            for (int i = 0; i < o.shards(); i++) {
                String k = Integer.toString(i);
                long[] c = byKey.get(k);
                if (c == null) {
                    skipped.add(new Manifest.Skipped(k, "no rows"));
                } else if (c[1] == 0) {
                    skipped.add(new Manifest.Skipped(k, "all " + c[0] + " rows are shorter than 2 tokens"));
                } else {
                    keys.add(k);
                }
            }
        } else {
            byKey.forEach((k, c) -> {
                if (c[1] == 0) {
                    skipped.add(new Manifest.Skipped(k, "all " + c[0] + " rows are shorter than 2 tokens"));
                } else {
                    keys.add(k);
                }
            });
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("Cannot train: no key of " + o.path() + " has a row of at least 2 "
                    + "tokens (" + skipped.size() + " key(s), " + total + " rows)");
        }
        Map<String, String> names = o.shards() > 0 ? shardNames(keys, o.shards()) : AdapterNames.of(keys);
        List<AdapterPlan> plans = new ArrayList<>();
        for (String k : keys) {
            plans.add(new AdapterPlan(names.get(k), k, plans.size(), byKey.get(k)[0]));
        }
        return new Plan(plans, skipped);
    }

    private static Map<String, String> shardNames(List<String> keys, int shards) {
        int width = Integer.toString(shards - 1).length();
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : keys) {
            m.put(k, String.format("shard-%0" + width + "d", Integer.parseInt(k)));
        }
        return m;
    }

    private static List<AdapterOutcome> trainStage(TrainData.Read data, List<AdapterPlan> plans, AdapterTask task) {
        return rowsByPlan(data, plans).mapPartitionsWithIndex(task::call, false).collect();
    }

    /** Rows to their adapter's partition (never to the driver): partition i holds the rows of plans[i]. */
    static JavaPairRDD<Integer, TrainRow> rowsByPlan(TrainData.Read data, List<AdapterPlan> plans) {
        Map<String, Integer> index = new HashMap<>();
        for (AdapterPlan p : plans) {
            index.put(p.key() == null ? TrainData.NULL_KEY : p.key(), p.index());
        }
        JavaPairRDD<Integer, TrainRow> rows = data.rows()
                .select(TrainData.KEY, TrainData.TEXT, TrainData.PROMPT, TrainData.COMPLETION).javaRDD()
                .flatMapToPair(row -> {
                    Integer i = index.get(row.getString(0));
                    return i == null ? Collections.emptyIterator()
                            : List.of(new Tuple2<>(i, new TrainRow(row.getString(1), row.getString(2),
                            row.getString(3)))).iterator();
                });
        return rows.partitionBy(new AdapterPartitioner(plans.size()))
                .setName("spark-lora: rows of " + plans.size() + " adapter(s), partition i = adapter i");
    }

    /** Partition i holds the rows of adapter i. */
    static final class AdapterPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int adapters;

        AdapterPartitioner(int adapters) {
            this.adapters = adapters;
        }

        @Override
        public int numPartitions() {
            return adapters;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }
    }

    /** Fails with "Cannot write to output <out>: …" unless a file can be created there; leaves nothing behind. */
    static void probeOutput(String out, Configuration conf) {
        Path dir = new Path(out);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            boolean existed = fs.exists(dir);
            if (existed && !fs.getFileStatus(dir).isDirectory()) {
                throw new IOException("it is a file");
            }
            if (!fs.mkdirs(dir)) {
                throw new IOException("cannot create the directory");
            }
            Path probe = new Path(dir, "_write-probe-" + java.util.UUID.randomUUID());
            try (OutputStream o = fs.create(probe, false)) {
                o.write(0);
            }
            fs.delete(probe, false);
            if (!existed) {
                fs.delete(dir, true);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("Cannot write to output " + out + ": " + TrainData.firstLine(
                    e.getMessage()), e);
        }
    }

    static void printTable(JsonNode manifest, PrintStream out) {
        out.printf("%-24s %8s %6s %11s %14s %9s  %s%n", "adapter", "rows", "steps", "train loss", "held-out loss",
                "seconds", "status");
        for (JsonNode a : manifest.path("adapters")) {
            out.printf("%-24s %8d %6d %11.4f %14s %9.1f  %s%n", a.path("name").asText(), a.path("rows").asLong(),
                    a.path("steps").asInt(), a.path("final_train_loss").asDouble(),
                    a.path("final_held_out_loss").isNumber()
                            ? String.format("%.4f", a.path("final_held_out_loss").asDouble()) : "-",
                    a.path("seconds").asDouble(), a.path("status").asText());
        }
    }
}
