package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.output.ManifestFile;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * {@code train --rank auto}: {@link RankSearch} for every adapter, one Spark stage per round over the adapters still
 * searching (so partitions search in parallel). Round r trains, with the stage, tasks and commits of {@code train}
 * ({@link AdapterBins#train}: rows streamed, a key over {@code --spill-rows} spilled), into
 * {@code <out>/_rank_search/r<rank>/adapters/<name>/}; a re-run finds those committed and trains nothing again. The chosen
 * rank's adapter is then copied to {@code <out>/adapters/<name>/} (marker last), and the manifest entry records the
 * chosen {@code rank} and {@code rank_search: [{rank, held_out_loss, seconds}, ...]}.
 */
public final class RankSearchJob {
    static final String DIR = "_rank_search";

    private RankSearchJob() {
    }

    public static SparkTrainJob.Summary run(SparkSession spark, TrainRequest r, RankSearch search, PrintStream out)
            throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        if (!(r.template().heldOutFraction() > 0)) {
            throw new IllegalArgumentException("Invalid --held-out " + r.template().heldOutFraction()
                    + " with --rank auto: the search compares held-out losses (use e.g. 0.1)");
        }
        ModelStore.ModelInfo model = ModelStore.describe(r.model(), conf);
        LoraConfig lora = r.lora().withTargetModules(r.targets() != null ? r.targets()
                : LoraConfig.defaultTargets(model.config()));
        lora.resolve(model.config());
        TrainSpec template = TrainJobSpecs.withLora(r.template(), lora);
        SparkTrainJob.probeOutput(r.out(), conf);
        String outUri = SparkTrainJob.qualifiedOut(r.out(), conf);
        try (OutputLease lease = SparkTrainJob.lease(spark, outUri, conf)) {
            TrainData.Read data = TrainData.tokenized(TrainData.read(spark, r.data()), model.tokenizer());
            TrainPlanner.Plan plan = TrainPlanner.plan(data, r.data(),
                    new TrainPlanner.Windowing(template.seqLen(), template.heldOutFraction()));
            PlanLine.print(plan, r.spillRows(), out);
            String baseSha = ModelStore.sha256(model.uri(), conf);
            SparkTrainJob.markOutput(FileSystem.get(new Path(outUri).toUri(), conf), outUri);
            Broadcast<BroadcastModel> broadcast = r.baseOnExecutors() ? null
                    : sc.broadcast(BroadcastModel.read(model.uri(), conf));
            Map<String, List<RankSearch.Trial>> trials = new LinkedHashMap<>();
            Map<String, String> failures = new LinkedHashMap<>();
            plan.adapters().forEach(p -> trials.put(p.name(), new ArrayList<>()));
            for (int round = 1; ; round++) {
                Map<Integer, List<AdapterPlan>> byRank = new LinkedHashMap<>();
                for (AdapterPlan p : plan.adapters()) {
                    int next = failures.containsKey(p.name()) ? 0 : search.next(trials.get(p.name()));
                    if (next > 0) {
                        byRank.computeIfAbsent(next, k -> new ArrayList<>()).add(p);
                    }
                }
                if (byRank.isEmpty()) {
                    break;
                }
                for (Map.Entry<Integer, List<AdapterPlan>> e : byRank.entrySet()) {
                    out.printf(Locale.ROOT, "Rank search round %d: rank %d for %d adapter(s)%n", round, e.getKey(),
                            e.getValue().size());
                    trainRound(spark, sc, r, model, baseSha, template, lora, e.getKey(), e.getValue(), data,
                            broadcast, outUri, trials, failures);
                }
            }
            if (broadcast != null) {
                broadcast.destroy();
            }
            Map<String, Manifest.Status> status = new LinkedHashMap<>();
            Map<String, Fingerprint> planned = new LinkedHashMap<>();
            AdapterStore store = new AdapterStore(outUri, conf);
            for (AdapterPlan p : plan.adapters()) {
                List<RankSearch.Trial> tried = trials.get(p.name());
                String failed = failures.get(p.name());
                if (failed != null && tried.stream().noneMatch(t -> Double.isFinite(t.heldOutLoss()))) {
                    status.put(p.name(), Manifest.Status.failed(failed, Manifest.Status.DETERMINISTIC));
                    planned.put(p.name(), jobAt(r, model, baseSha, template, lora, search.min(), List.of(p), outUri,
                            spark).fingerprintOf(p));
                    continue;
                }
                int chosen = search.choose(tried);
                TrainJobSpec at = jobAt(r, model, baseSha, template, lora, chosen, List.of(p), outUri, spark);
                planned.put(p.name(), at.fingerprintOf(p));
                String why = "rank " + chosen + " chosen by --rank auto";
                status.put(p.name(), RankSearchCopy.publish(store, new AdapterStore(roundUri(outUri, chosen), conf),
                        p.name(), conf) ? Manifest.Status.trained(why) : Manifest.Status.existing(why));
                out.printf(Locale.ROOT, "Adapter %s: rank %d chosen of %s%n", p.name(), chosen, describe(tried));
            }
            TrainData.release(data);
            lease.checkHeld();
            ManifestFile.Job job = Manifest.jobJson(r, model, baseSha, plan).with(
                    new ManifestFile.RankAuto(search.min(), search.max(), search.tolerance()));
            ManifestFile written = Manifest.write(store, outUri, conf, job, plan.adapters(),
                    status, planned, java.util.Map.of(), plan.skipped(), data.malformedSkipped(), lora);
            List<ManifestFile.Adapter> entries = new java.util.ArrayList<>();
            for (ManifestFile.Adapter a : written.adapters()) {
                entries.add(a.withRankSearch(trials.get(a.name()).stream().map(t ->
                        new ManifestFile.RankTrial(t.rank(), Double.isFinite(t.heldOutLoss())
                                ? t.heldOutLoss() : Double.NaN, t.seconds()))
                        .toList()));
            }
            ManifestFile manifest = new ManifestFile(written.formatVersion(),
                    written.writtenAt(), job, written.malformedRowsSkipped(), entries, null, written.skipped(), null,
                    null, null);
            Manifest.writeFile(conf, outUri, manifest);
            SparkTrainJob.printTable(manifest.adapters(), out);
            int failed = (int) status.values().stream().filter(Manifest.Status::isFailed).count();
            int existing = (int) status.values().stream().filter(st -> st.status().equals(Manifest.Status.EXISTING))
                    .count();
            return new SparkTrainJob.Summary(status.size() - failed - existing, existing, plan.skipped().size(),
                    failed, manifest, outUri);
        }
    }

    /** One stage: {@code plans} at {@code rank}; each adapter's held-out loss and seconds appended to its trials. */
    private static void trainRound(SparkSession spark, JavaSparkContext sc, TrainRequest r,
                                   ModelStore.ModelInfo model, String baseSha, TrainSpec template, LoraConfig lora,
                                   int rank, List<AdapterPlan> plans, TrainData.Read data,
                                   Broadcast<BroadcastModel> broadcast, String outUri,
                                   Map<String, List<RankSearch.Trial>> trials, Map<String, String> failures)
            throws IOException {
        List<AdapterPlan> indexed = new ArrayList<>();
        plans.forEach(p -> indexed.add(p.at(indexed.size())));
        TrainJobSpec job = jobAt(r, model, baseSha, template, lora, rank, indexed, outUri, spark);
        Configuration conf = sc.hadoopConfiguration();
        sc.setJobDescription("spark-lora: rank search, rank " + rank + " for " + indexed.size() + " adapter(s)");
        Map<String, AdapterOutcome> outcomes = new LinkedHashMap<>();
        for (AdapterOutcome o : AdapterBins.train(data, indexed, new AdapterTask(broadcast, job, new HadoopConf(conf)),
                sc.defaultParallelism(), 1).collect()) {
            outcomes.put(o.name, o);
        }
        AdapterStore store = new AdapterStore(job.outUri(), conf);
        store.fs().delete(new Path(job.outUri(), AdapterTask.CHECKPOINTS), true); // every task of the round is done
        for (AdapterPlan p : indexed) {
            AdapterOutcome o = outcomes.get(p.name());
            if (o != null && o.status.equals(Manifest.Status.FAILED)) {
                failures.put(p.name(), "rank " + rank + ": " + o.reason);
                trials.get(p.name()).add(new RankSearch.Trial(rank, Double.NaN, 0));
                continue;
            }
            Path training = new Path(store.dir(p.name()), AdapterStore.TRAINING_JSON);
            TrainingFile t = TrainingFile.read(Manifest.read(store.fs(), training), training.toString());
            trials.get(p.name()).add(new RankSearch.Trial(rank, t.finalHeldOutLoss() == null ? Double.NaN
                    : t.finalHeldOutLoss(), t.totalSeconds() == null ? 0 : t.totalSeconds()));
        }
    }

    private static TrainJobSpec jobAt(TrainRequest r, ModelStore.ModelInfo model, String baseSha, TrainSpec template,
                                      LoraConfig lora, int rank, List<AdapterPlan> plans, String outUri,
                                      SparkSession spark) {
        return new TrainJobSpec(TrainJobSpecs.withLora(template, lora.withRank(rank)), plans, roundUri(outUri, rank),
                model.uri(), baseSha, model.tokenizer(), r.progressSeconds(), TestHooks.NONE,
                SparkTrainJob.versions(spark), r.spillRows());
    }

    static String roundUri(String outUri, int rank) {
        return outUri + "/" + DIR + "/r" + rank;
    }

    private static String describe(List<RankSearch.Trial> tried) {
        StringBuilder s = new StringBuilder();
        for (RankSearch.Trial t : tried) {
            s.append(s.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "r%d %.4f", t.rank(),
                    t.heldOutLoss()));
        }
        return s.toString();
    }
}
