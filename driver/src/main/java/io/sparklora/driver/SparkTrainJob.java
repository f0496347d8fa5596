package io.sparklora.driver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.Fingerprint;
import io.sparklora.job.TrainSpec;
import io.sparklora.output.ManifestFile;
import io.sparklora.lora.LoraConfig;
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
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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
    /** Written first into {@code --out}: the directory is a spark-lora output. */
    public static final String OWNER_FILE = "_spark_lora.json";
    /** Spark conf key of the deterministic NaN test hook ({@code <adapter>:<step>}). */
    public static final String POISON_AT_STEP = "spark.sparklora.test.poisonAtStep";
    /** Spark conf key of the straggler test hook ({@code <adapter>:<step>:<millis>}, see {@link TestHooks}). */
    public static final String SLOW_AFTER_STEP = "spark.sparklora.test.slowAfterStep";
    /** Spark conf key: seconds of missed renewals after which the lease on {@code --out} expires (default 60). */
    public static final String LEASE_TIMEOUT = "spark.sparklora.lease.timeoutSeconds";

    private SparkTrainJob() {
    }

    /**
     * What the run did; {@code failed} adapters make the command exit with status 3. {@code outUri} is {@code --out}
     * qualified (a path without a scheme resolved against {@code fs.defaultFS}), where everything was written;
     * {@code seconds} the stage timings, null for jobs other than the plain train.
     */
    public record Summary(int trained, int existing, int skipped, int failed, ManifestFile manifest, String outUri,
                          Seconds seconds) {
        /** A summary without stage timings (jobs other than the plain train). */
        public Summary(int trained, int existing, int skipped, int failed, ManifestFile manifest, String outUri) {
            this(trained, existing, skipped, failed, manifest, outUri, null);
        }
    }

    /** Wall seconds of the run's stages: planning (data, plan, output state), the training stage, the manifest. */
    public record Seconds(double plan, double train, double manifest) {
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
                    + config.maxPositions() + " positions (" + config.positionLimit() + ")");
        }
        // Before anything runs or is written: a job that cannot fit its executors fails now, with the numbers.
        MemoryEstimate.of(config, lora.resolve(config), template, sc.getConf()).check();
        probeOutput(r.out(), conf);

        String outUri = qualifiedOut(r.out(), conf);
        // One job per output from here on: a second job fails fast naming this one.
        try (OutputLease lease = lease(spark, outUri, conf)) {
            long t0 = System.nanoTime();
            // 2. The data and the plan.
            sc.setJobDescription("spark-lora: read data and count rows per key");
            TrainData.Read data = TrainData.tokenized(TrainData.read(spark, r.data()), model.tokenizer());
            TrainPlanner.Plan plan = TrainPlanner.plan(data, r.data(),
                    new TrainPlanner.Windowing(template.seqLen(), template.heldOutFraction()));
            String baseUri = model.uri();
            String baseSha = ModelStore.sha256(baseUri, conf);
            TrainJobSpec job = new TrainJobSpec(template, plan.adapters(), outUri, baseUri, baseSha, model.tokenizer(),
                    r.progressSeconds(), TestHooks.of(spark), versions(spark), r.spillRows());

            // 3. What each adapter needs: compare what is on --out with this run's fingerprints.
            AdapterStore store = new AdapterStore(outUri, conf);
            AdapterListing listing = store.list(); // one listing of adapters/, not a probe per adapter
            Map<String, Manifest.PreviousFailure> previous = Manifest.previousFailures(store.fs(), outUri);
            Map<String, Manifest.Status> status = new LinkedHashMap<>();
            Map<String, Fingerprint> planned = new LinkedHashMap<>();
            Map<String, String> reasons = new LinkedHashMap<>(); // why each adapter of toTrain trains
            List<AdapterPlan> toTrain = new ArrayList<>();
            List<String> refused = new ArrayList<>();
            for (AdapterPlan p : plan.adapters()) {
                Fingerprint f = job.fingerprintOf(p);
                planned.put(p.name(), f);
                AdapterStore.State state = listing.state(p.name());
                AdapterStore.Marker marker = state == AdapterStore.State.COMMITTED ? listing.marker(p.name()) : null;
                Manifest.PreviousFailure failedBefore = previous.get(p.name());
                if (state == AdapterStore.State.FOREIGN) {
                    throw new IllegalArgumentException("Cannot train adapter " + p.name() + " into "
                            + store.dir(p.name()) + ": it holds files spark-lora did not write; move them away or "
                            + "choose another --out");
                } else if (marker != null && marker.fingerprint().equals(f)) {
                    status.put(p.name(), Manifest.Status.existing("fingerprint matches"));
                } else if (marker != null) {
                    String changed = String.join(", ", f.differencesFrom(marker.fingerprint())) + " changed";
                    if (r.existing() == ExistingPolicy.KEEP) {
                        status.put(p.name(), Manifest.Status.existing("kept by --existing keep although its "
                                + changed));
                    } else if (r.existing() == ExistingPolicy.FAIL) {
                        refused.add(p.name() + " (" + changed + ")");
                    } else {
                        reasons.put(p.name(), "retrained: " + changed);
                    }
                } else if (failedBefore != null && failedBefore.fingerprint().equals(f.combined())) {
                    status.put(p.name(), Manifest.Status.failed("failed before at this fingerprint, not retried: "
                            + failedBefore.reason(), Manifest.Status.DETERMINISTIC));
                } else {
                    reasons.put(p.name(), state == AdapterStore.State.LEFTOVER ? "trained: replaces an incomplete "
                            + "or unfingerprinted leftover" : "trained: new");
                }
                if (reasons.containsKey(p.name())) {
                    toTrain.add(p.at(toTrain.size()));
                }
            }
            if (!refused.isEmpty()) {
                throw new IllegalArgumentException("Cannot train: --existing fail and " + refused.size()
                        + " adapter(s) of " + r.out() + " were made differently: " + String.join("; ", refused));
            }
            for (ManifestFile.Skipped s : plan.skipped()) {
                LOG.warn("Skipping key {}: {}", s.key(), s.reason());
                out.println("Skipping key " + s.key() + ": " + s.reason());
            }
            if (data.malformedSkipped() > 0) {
                out.println("Skipped " + data.malformedSkipped() + " malformed line(s) of " + r.data().path());
            }
            status.forEach((name, st) -> {
                if (st.isFailed() || !st.reason().equals("fingerprint matches")) {
                    out.println("Adapter " + name + ": " + st.status() + " (" + st.reason() + ")");
                }
            });
            reasons.forEach((name, why) -> {
                if (!why.equals("trained: new")) {
                    out.println("Adapter " + name + ": " + why);
                }
            });
            out.println("Adapters: " + plan.adapters().size() + " planned, " + toTrain.size() + " to train, "
                    + (plan.adapters().size() - toTrain.size()) + " already complete");
            PlanLine.print(plan, job.spillRows(), out);

            markOutput(store.fs(), outUri);
            long t1 = System.nanoTime();
            Map<String, String> entries = new HashMap<>(); // committed adapters' manifest entries, from their tasks
            if (!toTrain.isEmpty()) {
                TrainJobSpec stage = new TrainJobSpec(template, toTrain, outUri, baseUri, baseSha, model.tokenizer(),
                        job.progressSeconds(), job.hooks(), job.versions(), job.spillRows());
                Broadcast<BroadcastModel> broadcast = null;
                if (!r.baseOnExecutors()) {
                    broadcast = sc.broadcast(BroadcastModel.read(baseUri, conf)); // one copy on the driver
                }
                sc.setJobDescription("spark-lora: train " + toTrain.size() + " LoRA adapter(s) (rank " + lora.rank()
                        + ", " + (template.steps() > 0 ? template.steps() + " steps" : template.epochs() + " epochs")
                        + ")");
                Map<String, AdapterOutcome> outcomes = new HashMap<>();
                String stageFailure = null;
                try {
                    for (AdapterOutcome o : AdapterBins.train(data, toTrain, new AdapterTask(broadcast, stage,
                            new HadoopConf(conf)), sc.defaultParallelism(), adaptersPerTask(r, config, template,
                            toTrain.size(), sc.defaultParallelism(), out)).collect()) {
                        outcomes.put(o.name, o);
                    }
                } catch (Exception e) { // the stage aborted (a task failed every attempt): keep what committed
                    stageFailure = TrainData.firstLine(rootMessage(e));
                    LOG.error("The training stage failed: {}", stageFailure, e);
                }
                for (AdapterPlan p : toTrain) {
                    AdapterOutcome o = outcomes.get(p.name());
                    Manifest.Status st;
                    if (o != null && o.status.equals(Manifest.Status.FAILED)) {
                        st = Manifest.Status.failed(o.reason, Manifest.Status.DETERMINISTIC);
                    } else if (o != null && o.entry != null || o == null && store.isCommitted(p.name(),
                            planned.get(p.name()))) {
                        st = Manifest.Status.trained(reasons.get(p.name()).replaceFirst("^trained: ", ""));
                        if (o != null) {
                            entries.put(p.name(), o.entry);
                        }
                    } else {
                        st = Manifest.Status.failed("its task failed: " + (stageFailure != null ? stageFailure
                                : "no result"), Manifest.Status.TRANSIENT);
                    }
                    status.put(p.name(), st);
                }
                if (broadcast != null) {
                    broadcast.destroy();
                }
                cleanUp(store, outUri, status);
            }
            store.removeAbandoned(); // also when nothing trained: a run killed after its last rename left them
            long t2 = System.nanoTime();
            ObjectNode router = RouterFit.afterTraining(sc, data, r.data(), plan.adapters(), status, template,
                    model.tokenizer(), job.spillRows(), outUri, out);
            sc.setJobDescription(null);
            TrainData.release(data);
            Map<String, Manifest.Status> ordered = new LinkedHashMap<>();
            plan.adapters().forEach(p -> ordered.put(p.name(), status.get(p.name())));
            lease.checkHeld();
            ManifestFile.Job jobJson = Manifest.jobJson(r, model, baseSha, plan);
            ManifestFile manifest = Manifest.write(store, outUri, conf, jobJson,
                    plan.adapters(), ordered, planned, entries, plan.skipped(), data.malformedSkipped(), lora,
                    router);
            printTable(manifest.adapters(), out);
            Seconds seconds = new Seconds((t1 - t0) / 1e9, (t2 - t1) / 1e9, (System.nanoTime() - t2) / 1e9);
            out.printf("Planning %.1f s, training stage %.1f s (%d adapter(s)), manifest %.1f s%n", seconds.plan(),
                    seconds.train(), toTrain.size(), seconds.manifest());
            int trained = count(manifest.adapters(), Manifest.Status.TRAINED);
            int failed = count(manifest.adapters(), Manifest.Status.FAILED);
            return new Summary(trained, plan.adapters().size() - trained - failed, plan.skipped().size(), failed,
                    manifest, outUri, seconds);
        }
    }

    /** Adapters per fused group under the default rule ({@link #defaultAdaptersPerTask}) when it fuses. */
    static final int DEFAULT_FUSED = 4;

    /**
     * {@code --adapters-per-task} as this job uses it for {@code adapters} adapters on {@code parallelism} cores: the
     * default rule's when not given; when given, 1, with the reason printed once, if no group could fuse (a base
     * outside the LLaMA family). Reasons that depend on each adapter's data ({@code --epochs}) are decided per group
     * by the task.
     */
    static int adaptersPerTask(TrainRequest r, ModelConfig config, TrainSpec template, int adapters, int parallelism,
                               PrintStream out) {
        if (r.adaptersPerTask() == null) {
            int k = defaultAdaptersPerTask(config, template, adapters, parallelism);
            if (k > 1) {
                out.println("Adapters per task: up to " + k + " trained fused (the default for batch × seq "
                        + template.batchSize() * template.seqLen() + " <= 256; --adapters-per-task 1 trains them "
                        + "one by one)");
            }
            return k;
        }
        int k = r.adaptersPerTask();
        if (k == 1) {
            return 1;
        }
        String why = config.fold(llama -> null, gpt2 -> "fused training supports the LLaMA family, the base is "
                + config.modelType());
        if (why == null) {
            return k;
        }
        String line = "--adapters-per-task " + k + ": training the adapters one by one: " + why;
        LOG.warn(line);
        out.println(line);
        return 1;
    }

    /**
     * The default {@code --adapters-per-task}: {@value #DEFAULT_FUSED} in the small-batch regime where fusing pays
     * (batch × seq ≤ 256: one adapter's frozen GEMMs have few rows; see the README's fused section), over a
     * LLaMA-family base, with {@code --steps} given (with {@code --epochs} the members' step counts depend on their
     * data and may differ, so groups may not fuse) and at least one fused group per core (⌈adapters / K⌉ ≥
     * parallelism); else 1. Checkpoints do not matter: fused members write them as single adapters do.
     */
    static int defaultAdaptersPerTask(ModelConfig config, TrainSpec template, int adapters, int parallelism) {
        boolean llama = config.fold(l -> true, g -> false);
        boolean smallBatch = (long) template.batchSize() * template.seqLen() <= 256;
        boolean stepsKnown = template.steps() > 0;
        boolean groupPerCore = (adapters + DEFAULT_FUSED - 1) / DEFAULT_FUSED >= Math.max(1, parallelism);
        return llama && smallBatch && stepsKnown && groupPerCore ? DEFAULT_FUSED : 1;
    }

    /** {@code --out} qualified: a path without a scheme resolved against {@code fs.defaultFS}. */
    static String qualifiedOut(String out, Configuration conf) throws IOException {
        return FileSystem.get(new Path(out).toUri(), conf).makeQualified(new Path(out)).toString();
    }

    /** The lease on {@code outUri} of every job that writes a train output: one job per output. */
    static OutputLease lease(SparkSession spark, String outUri, Configuration conf) throws IOException {
        return OutputLease.acquire(FileSystem.get(new Path(outUri).toUri(), conf), new Path(outUri),
                leaseTimeoutSeconds(spark));
    }

    /** What made an output, recorded in each adapter's training.json: spark-lora, Spark and Java versions. */
    static List<String> versions(SparkSession spark) {
        return List.of(io.sparklora.cli.Versions.sparkLora(), spark.version(), System.getProperty("java.version"));
    }

    static double leaseTimeoutSeconds(SparkSession spark) {
        String v = spark.conf().get(LEASE_TIMEOUT, String.valueOf(OutputLease.DEFAULT_TIMEOUT_SECONDS));
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid " + LEASE_TIMEOUT + " " + v + ": expected seconds (> 0)", e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }

    /**
     * After the stage: the checkpoints of committed adapters and of deterministic failures go (a transient failure
     * keeps its own to resume from); {@code _checkpoints} when empty.
     */
    static void cleanUp(AdapterStore store, String outUri, Map<String, Manifest.Status> status)
            throws IOException {
        FileSystem fs = store.fs();
        Path ckpt = new Path(outUri, AdapterTask.CHECKPOINTS);
        java.util.Set<String> withCheckpoints = new java.util.HashSet<>(); // one listing, not a delete per adapter
        if (fs.exists(ckpt)) {
            for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(ckpt)) {
                withCheckpoints.add(f.getPath().getName());
            }
        }
        status.forEach((name, st) -> {
            if (!Manifest.Status.TRANSIENT.equals(st.failure())) {
                try {
                    if (withCheckpoints.remove(name)) {
                        fs.delete(new Path(ckpt, name), true);
                    }
                    if (st.isFailed()) {
                        store.deleteLeftover(name);
                    }
                } catch (IOException e) {
                    LOG.warn("Cannot delete the checkpoints of adapter {}: {}", name, e.getMessage());
                }
            }
        });
        if (withCheckpoints.isEmpty() && fs.exists(ckpt) && fs.listStatus(ckpt).length == 0) {
            fs.delete(ckpt, true);
        }
    }

    /** How many of {@code entries} have {@code status}. */
    static int count(List<ManifestFile.Adapter> entries, String status) {
        return (int) entries.stream().filter(a -> status.equals(a.status())).count();
    }

    /** Rows to their adapter's partition (never to the driver): partition i holds the rows of plans[i]. */
    static JavaPairRDD<Integer, TrainRow> rowsByPlan(TrainData.Read data, List<AdapterPlan> plans) {
        return keyedRows(data, plans).partitionBy(new AdapterPartitioner(plans.size()))
                .setName("spark-lora: rows of " + plans.size() + " adapter(s), partition i = adapter i");
    }

    /** Each row of a planned key, keyed by its plan's index (rows of other keys dropped), before any shuffle. */
    static JavaPairRDD<Integer, TrainRow> keyedRows(TrainData.Read data, List<AdapterPlan> plans) {
        Map<String, Integer> index = new HashMap<>();
        for (AdapterPlan p : plans) {
            index.put(p.key() == null ? TrainData.NULL_KEY : p.key(), p.index());
        }
        return data.rows()
                .select(TrainData.KEY, TrainData.TEXT, TrainData.PROMPT, TrainData.COMPLETION, TrainData.TOKENS,
                        TrainData.LOSS_FROM).javaRDD()
                .flatMapToPair(row -> {
                    Integer i = index.get(row.getString(0));
                    if (i == null) {
                        return Collections.emptyIterator();
                    }
                    io.sparklora.tokenizer.EncodedRow encoded = row.isNullAt(4) ? null
                            : new io.sparklora.tokenizer.EncodedRow(intArray(row.getList(4)), row.getInt(5));
                    return List.of(new Tuple2<>(i, new TrainRow(row.getString(1), row.getString(2),
                            row.getString(3), encoded))).iterator();
                });
    }

    private static int[] intArray(List<Integer> ids) {
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
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

    /** Marks {@code <out>} as a spark-lora output (before anything else is written there); kept when present. */
    static void markOutput(FileSystem fs, String outUri) throws IOException {
        Path owner = new Path(outUri, OWNER_FILE);
        if (!fs.exists(owner)) {
            try (OutputStream o = fs.create(owner, true)) {
                o.write(("{\"format_version\": 1, \"written_by\": \"spark-lora\", \"created_at\": \""
                        + java.time.Instant.now() + "\"}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * Fails with "Cannot write to output <out>: …" unless a file can be created there, and unless {@code <out>} is
     * absent, empty or a spark-lora output (nothing spark-lora did not write is ever touched); leaves nothing behind.
     */
    static void probeOutput(String out, Configuration conf) {
        Path dir = new Path(out);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            boolean existed = fs.exists(dir);
            if (existed && !fs.getFileStatus(dir).isDirectory()) {
                throw new IOException("it is a file");
            }
            if (existed && fs.listStatus(dir).length > 0 && !fs.exists(new Path(dir, OWNER_FILE))
                    && !fs.exists(new Path(dir, Manifest.FILE)) && !fs.exists(new Path(dir, OutputLease.FILE))) {
                throw new IOException("it exists, is not empty and is not a spark-lora output (it has neither "
                        + OWNER_FILE + " nor " + Manifest.FILE + "); choose another --out or empty it");
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

    static void printTable(List<ManifestFile.Adapter> entries, PrintStream out) {
        out.printf("%-24s %8s %6s %11s %14s %9s  %s%n", "adapter", "rows", "steps", "train loss", "held-out loss",
                "seconds", "status");
        for (ManifestFile.Adapter a : entries) {
            Double heldOut = a.finalHeldOutLoss();
            out.printf("%-24s %8d %6d %11.4f %14s %9.1f  %s%n", a.name(), a.rows() == null ? 0 : a.rows(),
                    a.steps() == null ? 0 : a.steps(), a.finalTrainLoss() == null ? 0 : a.finalTrainLoss(),
                    heldOut != null && !heldOut.isNaN() ? String.format("%.4f", heldOut) : "-",
                    a.seconds() == null ? 0 : a.seconds(), a.status());
        }
        boolean header = false;
        for (ManifestFile.Adapter a : entries) {
            if (a.isFailed()) {
                if (!header) {
                    out.printf("%nFailed adapters (a re-run retries transient failures, not deterministic ones):%n");
                    out.printf("%-24s %-13s  %s%n", "adapter", "failure", "reason");
                    header = true;
                }
                out.printf("%-24s %-13s  %s%n", a.name(), a.failure(), a.reason());
            }
        }
    }
}
