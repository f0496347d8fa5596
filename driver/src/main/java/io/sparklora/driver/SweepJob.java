package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.output.ManifestFile;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sweep}: every LoRA point of a {@link SweepGrid} for every partition, as one Spark job (one union of the
 * points' task sets, collected once), each point trained and committed by {@code train}'s own stage and tasks
 * ({@link AdapterBins#train}: rows streamed in content order, a key over {@code --spill-rows} spilled) into
 * {@code <out>/points/<targets-id>-r<rank>/adapters/<name>/}; with {@code --full}, then the full fine-tuning corner by
 * {@link FullTrainJob} into {@code <out>/points/full/models/<name>/}. Every point uses the same plan, so the same
 * held-out rows; a point's loss is its trainer's final held-out loss. A re-run finds committed points and trains
 * nothing again.
 */
public final class SweepJob {
    static final String POINTS = "points";
    /**
     * The full fine-tuning corner's output, relative to the sweep's: a {@code train --full} output (manifest,
     * {@code models/<name>/}, and the same report as {@code train --full}'s).
     */
    public static final String FULL_CORNER = POINTS + "/" + Plane.FULL;
    private static final Logger LOG = LoggerFactory.getLogger(SweepJob.class);

    private SweepJob() {
    }

    /** Trains the plane and returns its points (written by the caller, after the report). */
    public static List<Plane.Point> run(SparkSession spark, TrainRequest r, SweepGrid grid, boolean full,
                                        PrintStream out) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        if (!(r.template().heldOutFraction() > 0)) {
            throw new IllegalArgumentException("Invalid --held-out " + r.template().heldOutFraction()
                    + " with sweep: the plane compares held-out losses (use e.g. 0.1)");
        }
        ModelStore.ModelInfo model = ModelStore.describe(r.model(), conf);
        grid.check(r.lora(), model.config());
        SparkTrainJob.probeOutput(r.out(), conf);
        String outUri = SparkTrainJob.qualifiedOut(r.out(), conf);
        List<Plane.Point> points = new ArrayList<>();
        try (OutputLease lease = SparkTrainJob.lease(spark, outUri, conf)) {
            TrainData.Read data = TrainData.tokenized(TrainData.read(spark, r.data()), model.tokenizer());
            TrainPlanner.Plan plan = TrainPlanner.plan(data, r.data(),
                    new TrainPlanner.Windowing(r.template().seqLen(), r.template().heldOutFraction()));
            if (full) { // refused before the LoRA points train, not after them when the corner starts
                FullTrainJob.check(sc, FullTrainJob.memoryPlan(sc, model.config(),
                        FullTrainJob.fullWeights(r.template()), plan.adapters().size()));
            }
            String baseSha = ModelStore.sha256(model.uri(), conf);
            SparkTrainJob.markOutput(FileSystem.get(new Path(outUri).toUri(), conf), outUri);
            List<AdapterPlan> indexed = new ArrayList<>();
            plan.adapters().forEach(p -> indexed.add(p.at(indexed.size())));
            List<SweepGrid.Point> lora = grid.points();
            out.printf(Locale.ROOT, "Sweep: %d target set(s) x %d rank(s) x %d partition(s) = %d LoRA adapter(s)%s%n",
                    grid.targets().size(), grid.ranks().size(), indexed.size(), lora.size() * indexed.size(),
                    full ? ", then " + indexed.size() + " full fine-tuning(s)" : "");
            PlanLine.print(plan, r.spillRows(), out); // plane.json has no job section: the line only
            List<TrainJobSpec> jobs = new ArrayList<>();
            for (SweepGrid.Point p : lora) {
                jobs.add(jobAt(r, model, baseSha, p, indexed, outUri, spark));
            }
            trainAll(sc, data, indexed, jobs, r.baseOnExecutors() ? null
                    : sc.broadcast(BroadcastModel.read(model.uri(), conf)));
            for (int i = 0; i < lora.size(); i++) {
                points.addAll(loraPoints(lora.get(i), jobs.get(i), indexed, model, r.lora(), conf, out));
            }
            TrainData.release(data);
            lease.checkHeld();
            if (full) {
                String fullUri = outUri + "/" + FULL_CORNER;
                out.println("Sweep: the full fine-tuning corner");
                SparkTrainJob.Summary s = FullTrainJob.run(spark, new TrainRequest(r.model(), r.data(), fullUri,
                        r.lora(), r.targets(), r.template(), r.baseOnExecutors(), r.progressSeconds(),
                        r.existing(), r.spillRows(), 1), out);
                points.addAll(fullPoints(s.manifest(), fullUri, conf));
            }
            lease.checkHeld();
        }
        return points;
    }

    /** One Spark job: the union of every point's stage (its partitions packed into tasks), collected once. */
    private static void trainAll(JavaSparkContext sc, TrainData.Read data, List<AdapterPlan> plans,
                                 List<TrainJobSpec> jobs, Broadcast<BroadcastModel> broadcast) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        List<JavaRDD<AdapterOutcome>> stages = new ArrayList<>();
        for (TrainJobSpec job : jobs) {
            stages.add(AdapterBins.train(data, plans, new AdapterTask(broadcast, job, new HadoopConf(conf)),
                    sc.defaultParallelism(), 1));
        }
        sc.setJobDescription("spark-lora: sweep, " + jobs.size() + " point(s) x " + plans.size() + " partition(s)");
        try {
            sc.union(stages.toArray(JavaRDD[]::new)).collect();
        } catch (Exception e) { // a task failed every attempt: what committed counts, the rest are failed points
            LOG.error("The sweep stage failed: {}", TrainData.firstLine(SparkTrainJob.rootMessage(e)), e);
        }
        sc.setJobDescription(null);
        if (broadcast != null) {
            broadcast.destroy();
        }
        for (TrainJobSpec job : jobs) {
            AdapterStore store = new AdapterStore(job.outUri(), conf);
            store.fs().delete(new Path(job.outUri(), AdapterTask.CHECKPOINTS), true);
        }
    }

    private static List<Plane.Point> loraPoints(SweepGrid.Point point, TrainJobSpec job, List<AdapterPlan> plans,
                                                ModelStore.ModelInfo model, LoraConfig base, Configuration conf,
                                                PrintStream out) throws IOException {
        LoraConfig lora = base.withTargetModules(point.targets()).withRank(point.rank());
        List<String> expanded = SweepGrid.expanded(lora, model.config());
        long params = SweepGrid.trainableParameters(lora, model.config());
        AdapterStore store = new AdapterStore(job.outUri(), conf);
        List<Plane.Point> list = new ArrayList<>();
        for (AdapterPlan p : plans) {
            double loss = Double.NaN;
            double seconds = 0;
            long bytes = 0;
            if (store.isCommitted(p.name(), job.fingerprintOf(p))) {
                Path training = new Path(store.dir(p.name()), AdapterStore.TRAINING_JSON);
                TrainingFile t = TrainingFile.read(Manifest.read(store.fs(), training), training.toString());
                loss = t.finalHeldOutLoss() == null ? Double.NaN : t.finalHeldOutLoss();
                seconds = t.totalSeconds() == null ? 0 : t.totalSeconds();
                for (String f : AdapterStore.IDENTITY_FILES) {
                    bytes += store.fs().getFileStatus(new Path(store.dir(p.name()), f)).getLen();
                }
            }
            String path = POINTS + "/" + point.id() + "/" + "adapters/" + p.name();
            list.add(new Plane.Point(p.key(), p.name(), SweepGrid.targetsId(point.targets()), expanded, point.rank(),
                    path, params, bytes, loss, seconds));
            out.printf(Locale.ROOT, "Point %s, %s: %,d parameters, held-out loss %s%n", point.id(), p.name(), params,
                    Double.isFinite(loss) ? String.format(Locale.ROOT, "%.4f", loss) : "- (failed)");
        }
        return list;
    }

    /**
     * The corner's points from its {@code train --full} manifest; a partition of rows without a key value keeps the
     * null key its LoRA points have (not the text "null"), and a failed model (no path in the manifest) the path it
     * would have had, as a failed LoRA point does.
     */
    static List<Plane.Point> fullPoints(ManifestFile manifest, String fullUri,
                                        Configuration conf) throws IOException {
        List<Plane.Point> list = new ArrayList<>();
        FileSystem fs = new Path(fullUri).getFileSystem(conf);
        for (ManifestFile.Adapter m : manifest.models()) {
            boolean ok = !m.isFailed();
            long bytes = 0;
            if (ok) {
                for (FileStatus f : fs.listStatus(new Path(fullUri, m.path()))) {
                    String n = f.getPath().getName();
                    bytes += f.isFile() && !n.startsWith("_") && !n.equals(AdapterStore.TRAINING_JSON) ? f.getLen() : 0;
                }
            }
            Double loss = m.finalHeldOutLoss();
            String rel = m.path() != null ? m.path() : TunedModelStore.DIR + "/" + m.name();
            list.add(new Plane.Point(m.key(), m.name(), Plane.FULL, List.of(Plane.FULL), null,
                    FULL_CORNER + "/" + rel, m.parameters() == null ? 0 : m.parameters(), bytes,
                    ok && loss != null ? loss : Double.NaN, m.seconds() == null ? 0 : m.seconds()));
        }
        return list;
    }

    private static TrainJobSpec jobAt(TrainRequest r, ModelStore.ModelInfo model, String baseSha,
                                      SweepGrid.Point point, List<AdapterPlan> plans, String outUri,
                                      SparkSession spark) {
        LoraConfig lora = r.lora().withTargetModules(point.targets()).withRank(point.rank());
        TrainSpec spec = TrainJobSpecs.withLora(r.template(), lora);
        return new TrainJobSpec(spec, plans, outUri + "/" + POINTS + "/" + point.id(), model.uri(), baseSha,
                model.tokenizer(), r.progressSeconds(), TestHooks.NONE,
                SparkTrainJob.versions(spark), r.spillRows());
    }
}
