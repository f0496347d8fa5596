package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
import io.sparklora.job.TrainMode;
import io.sparklora.job.TrainSpec;
import io.sparklora.model.ModelConfig;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train --full}: the far corner of the plane, on Spark. The same inputs, checks, plan (one model per key or
 * shard), held-out split and output lease as {@link SparkTrainJob}, but each task fine-tunes every weight of its own
 * copy of the base ({@link FullTrainTask}) and commits {@code models/<name>/}; before any training the memory a task
 * needs is compared with what an executor has ({@link FullMemoryPlan}) and the run is refused with the numbers when
 * it does not fit. The manifest lists the models under {@code models} with the same status fields as adapters.
 * After the stage the checkpoints of committed and deterministically failed models are removed (a transient failure
 * keeps its own, for a re-run to resume).
 */
public final class FullTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(FullTrainJob.class);

    private FullTrainJob() {
    }

    public static SparkTrainJob.Summary run(SparkSession spark, TrainRequest r, PrintStream out) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        sc.setJobGroup("spark-lora-train-full", "spark-lora train --full " + r.out(), false);
        ModelStore.ModelInfo model = ModelStore.describe(r.model(), conf);
        ModelConfig config = model.config();
        TrainSpec template = fullWeights(r.template());
        if (template.seqLen() > config.maxPositions()) {
            throw new IllegalArgumentException("Invalid --seq " + template.seqLen() + ": the base model has "
                    + config.maxPositions() + " positions (" + config.positionLimit() + ")");
        }
        SparkTrainJob.probeOutput(r.out(), conf);
        String outUri = SparkTrainJob.qualifiedOut(r.out(), conf);
        try (OutputLease lease = SparkTrainJob.lease(spark, outUri, conf)) {
            long t0 = System.nanoTime();
            sc.setJobDescription("spark-lora: read data and count rows per key");
            TrainData.Read data = TrainData.tokenized(TrainData.read(spark, r.data()), model.tokenizer());
            TrainPlanner.Plan plan = TrainPlanner.plan(data, r.data(),
                    new TrainPlanner.Windowing(template.seqLen(), template.heldOutFraction()));
            FullMemoryPlan memory = memoryPlan(sc, config, template, plan.adapters().size());
            out.printf("Full fine-tuning: %,d parameters; per task about %s (weights, gradients, AdamW m and v, "
                    + "activations), %d task(s) at once per executor, %s of %s needed%n", memory.parameters(),
                    FullMemoryPlan.mib(memory.perTaskBytes()), memory.tasksAtOnce(),
                    FullMemoryPlan.mib(memory.neededBytes()), FullMemoryPlan.mib(memory.availableBytes()));
            check(sc, memory);
            String baseUri = model.uri();
            String baseSha = ModelStore.sha256(baseUri, conf);
            TrainJobSpec job = new TrainJobSpec(template, plan.adapters(), outUri, baseUri, baseSha, model.tokenizer(),
                    r.progressSeconds(), TestHooks.of(spark), SparkTrainJob.versions(spark), r.spillRows());
            TunedModelStore store = new TunedModelStore(outUri, conf);
            Map<String, Manifest.Status> status = new LinkedHashMap<>();
            Map<String, Fingerprint> planned = new LinkedHashMap<>();
            List<AdapterPlan> toTrain = new ArrayList<>();
            for (AdapterPlan p : plan.adapters()) {
                Fingerprint f = job.fingerprintOf(p);
                planned.put(p.name(), f);
                if (store.isCommitted(p.name(), f)) {
                    status.put(p.name(), Manifest.Status.existing("fingerprint matches"));
                } else {
                    toTrain.add(p.at(toTrain.size()));
                }
            }
            for (ManifestFile.Skipped s : plan.skipped()) {
                out.println("Skipping key " + s.key() + ": " + s.reason());
            }
            out.println("Models: " + plan.adapters().size() + " planned, " + toTrain.size() + " to train, "
                    + (plan.adapters().size() - toTrain.size()) + " already complete");
            PlanLine.print(plan, r.spillRows(), out);
            SparkTrainJob.markOutput(store.fs(), outUri);
            long t1 = System.nanoTime();
            if (!toTrain.isEmpty()) {
                trainStage(sc, r, data, job, toTrain, store, planned, status);
            }
            long t2 = System.nanoTime();
            sc.setJobDescription(null);
            TrainData.release(data);
            lease.checkHeld();
            ManifestFile manifest = TunedModelManifest.write(store, outUri, conf,
                    Manifest.jobJson(r, model, baseSha, plan).withMode("full"), plan.adapters(), status, planned,
                    plan.skipped(), data.malformedSkipped(), memory.parameters());
            SparkTrainJob.printTable(manifest.models(), out);
            out.printf("Planning %.1f s, training stage %.1f s (%d model(s)), manifest %.1f s%n", (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9, toTrain.size(), (System.nanoTime() - t2) / 1e9);
            int trained = SparkTrainJob.count(manifest.models(), Manifest.Status.TRAINED);
            int failed = SparkTrainJob.count(manifest.models(), Manifest.Status.FAILED);
            return new SparkTrainJob.Summary(trained, plan.adapters().size() - trained - failed,
                    plan.skipped().size(), failed, manifest, outUri);
        }
    }

    private static void trainStage(JavaSparkContext sc, TrainRequest r, TrainData.Read data, TrainJobSpec job,
                                   List<AdapterPlan> toTrain, TunedModelStore store, Map<String, Fingerprint> planned,
                                   Map<String, Manifest.Status> status) throws IOException {
        TrainJobSpec stage = new TrainJobSpec(job.template(), toTrain, job.outUri(), job.baseModelUri(),
                job.baseModelSha256(), job.tokenizer(), job.progressSeconds(), job.hooks(), job.versions(),
                job.spillRows());
        Broadcast<BroadcastModel> broadcast = null;
        if (!r.baseOnExecutors()) {
            broadcast = sc.broadcast(BroadcastModel.read(job.baseModelUri(), sc.hadoopConfiguration()));
        }
        TrainSpec t = job.template();
        sc.setJobDescription("spark-lora: fully fine-tune " + toTrain.size() + " model(s) (" + (t.steps() > 0
                ? t.steps() + " steps" : t.epochs() + " epochs") + ")");
        Map<String, AdapterOutcome> outcomes = new HashMap<>();
        String stageFailure = null;
        try {
            FullTrainTask task = new FullTrainTask(broadcast, stage, new HadoopConf(sc.hadoopConfiguration()));
            for (AdapterOutcome o : AdapterBins.stage(SparkTrainJob.keyedRows(data, toTrain),
                    AdapterBins.onePerTask(toTrain.size()), toTrain.size() + " model(s)", task::call).collect()) {
                outcomes.put(o.name, o);
            }
        } catch (Exception e) { // the stage aborted (a task failed every attempt): keep what committed
            stageFailure = TrainData.firstLine(SparkTrainJob.rootMessage(e));
            LOG.error("The full fine-tuning stage failed: {}", stageFailure, e);
        }
        for (AdapterPlan p : toTrain) {
            AdapterOutcome o = outcomes.get(p.name());
            if (o != null && o.status.equals(Manifest.Status.FAILED)) {
                status.put(p.name(), Manifest.Status.failed(o.reason, Manifest.Status.DETERMINISTIC));
            } else if (store.isCommitted(p.name(), planned.get(p.name()))) {
                status.put(p.name(), Manifest.Status.trained("new"));
            } else {
                status.put(p.name(), Manifest.Status.failed("its task failed: " + (stageFailure != null
                        ? stageFailure : "no result"), Manifest.Status.TRANSIENT));
            }
        }
        if (broadcast != null) {
            broadcast.destroy();
        }
        FileSystem fs = store.fs();
        Path checkpoints = new Path(job.outUri(), AdapterTask.CHECKPOINTS);
        for (AdapterPlan p : toTrain) { // a transient failure keeps its checkpoints: a re-run resumes from them
            if (!Manifest.Status.TRANSIENT.equals(status.get(p.name()).failure())) {
                fs.delete(new Path(checkpoints, p.name()), true);
            }
        }
        if (fs.exists(checkpoints) && fs.listStatus(checkpoints).length == 0) {
            fs.delete(checkpoints, true);
        }
        Path models = new Path(job.outUri(), TunedModelStore.DIR);
        if (fs.exists(models)) {
            for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(models)) {
                if (f.isDirectory() && f.getPath().getName().startsWith("_tmp-")) {
                    fs.delete(f.getPath(), true); // a killed attempt's own commit directory
                }
            }
        }
    }

    /** Fails with the numbers when {@code memory} does not fit what runs the tasks: the local JVM, or each executor. */
    static void check(JavaSparkContext sc, FullMemoryPlan memory) {
        memory.check(sc.isLocal() ? "the local driver JVM" : "each executor");
    }

    /**
     * Local mode: the driver JVM's heap, as many tasks at once as cores (at most one per model). A cluster:
     * spark.executor.memory less Spark's reserve, spark.executor.cores / spark.task.cpus tasks at once (1 when
     * spark.executor.cores is unset).
     */
    static FullMemoryPlan memoryPlan(JavaSparkContext sc, ModelConfig config, TrainSpec spec, int models) {
        SparkConf c = sc.getConf();
        int cpus = Math.max(1, c.getInt("spark.task.cpus", 1));
        int slots = sc.isLocal() ? sc.defaultParallelism() : c.getInt("spark.executor.cores", 1) / cpus;
        long heap = sc.isLocal() ? Runtime.getRuntime().maxMemory() : c.getSizeAsBytes("spark.executor.memory", "1g");
        return FullMemoryPlan.of(config, spec, Math.max(1, Math.min(slots, models)),
                heap - FullMemoryPlan.SPARK_RESERVED);
    }

    /** The request's training settings as a full-weights run (no LoRA config). */
    static TrainSpec fullWeights(TrainSpec t) {
        return new TrainSpec(t.adapterName(), TrainMode.FULL_WEIGHTS, null, t.steps(), t.epochs(), t.batchSize(),
                t.seqLen(), t.learningRate(), t.warmupSteps(), t.minLrRatio(), t.weightDecay(), t.beta1(), t.beta2(),
                t.eps(), t.gradClip(), t.gradAccumulation(), t.evalEvery(), t.checkpointEvery(), t.heldOutFraction(),
                t.seed());
    }
}
