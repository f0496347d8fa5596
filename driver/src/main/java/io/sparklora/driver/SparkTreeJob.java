package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * {@code train --tree FILE}: a tree of adapters, trained level by level (one Spark stage per level, a level's nodes
 * in parallel, partition i = node i, its keys' rows sorted key by key and by content, {@link AdapterBins#stage}),
 * each node's LoRA over its ancestors' frozen adapters ({@link TreeTask}); then
 * every leaf's path flattened into {@code paths/<leaf>/} ({@link TreePaths}) and the manifest written with the tree.
 * The checks, commits, fingerprints, statuses and the lease on {@code --out} are {@code train}'s
 * ({@link SparkTrainJob}); every check of the input runs before anything is written.
 */
public final class SparkTreeJob {
    private static final Logger LOG = LoggerFactory.getLogger(SparkTreeJob.class);

    private SparkTreeJob() {
    }

    /** {@code pathRank} null: paths keep their exact rank (the sum of the path's ranks). */
    public static SparkTrainJob.Summary run(SparkSession spark, TrainRequest r, TreeSpec tree, Integer pathRank,
                                            PrintStream out) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        sc.setJobGroup("spark-lora-train", "spark-lora train --tree " + r.out(), false);
        ModelStore.ModelInfo model = ModelStore.describe(r.model(), conf);
        LoraConfig lora = r.lora().withTargetModules(r.targets() != null ? r.targets()
                : LoraConfig.defaultTargets(model.config()));
        lora.resolve(model.config());
        TrainSpec template = TrainJobSpecs.withLora(r.template(), lora);
        if (template.seqLen() > model.config().maxPositions()) {
            throw new IllegalArgumentException("Invalid --seq " + template.seqLen() + ": the base model has "
                    + model.config().maxPositions() + " positions (" + model.config().positionLimit() + ")");
        }
        if (pathRank != null && pathRank < 1) {
            throw new IllegalArgumentException("Invalid --path-rank " + pathRank + ": must be >= 1");
        }
        SparkTrainJob.probeOutput(r.out(), conf);
        String outUri = SparkTrainJob.qualifiedOut(r.out(), conf);
        try (OutputLease lease = SparkTrainJob.lease(spark, outUri, conf)) {
            long t0 = System.nanoTime();
            sc.setJobDescription("spark-lora: read data and count rows per key");
            TrainData.Read data = TrainData.tokenized(TrainData.read(spark, r.data()), model.tokenizer());
            TrainPlanner.Plan perKey = TrainPlanner.plan(data, r.data(),
                    new TrainPlanner.Windowing(template.seqLen(), template.heldOutFraction()));
            TreePlan plan = new TreePlan(tree, perKey, r.data().path());
            String baseSha = ModelStore.sha256(model.uri(), conf);
            TrainJobSpec job = new TrainJobSpec(template, List.of(), outUri, model.uri(), baseSha, model.tokenizer(),
                    r.progressSeconds(), TestHooks.NONE, SparkTrainJob.versions(spark), r.spillRows());
            AdapterStore store = new AdapterStore(outUri, conf);
            TreeDecisions d = new TreeDecisions(plan, job, store, r.existing(),
                    Manifest.previousFailures(store.fs(), outUri));
            perKey.skipped().forEach(s -> out.println("Skipping key " + s.key() + ": " + s.reason()));
            d.status.forEach((n, st) -> {
                if (st.isFailed() || !st.reason().equals("fingerprint matches")) {
                    out.println("Node " + n + ": " + st.status() + " (" + st.reason() + ")");
                }
            });
            d.reasons.forEach((n, why) -> {
                if (!why.equals("trained: new")) {
                    out.println("Node " + n + ": " + why);
                }
            });
            out.println("Tree " + tree.source() + ": " + tree.nodes().size() + " node(s) in " + tree.levels().size()
                    + " level(s), " + d.reasons.size() + " to train, " + tree.leaves().size() + " leaf path(s)");
            PlanLine.print(perKey, r.spillRows(), out);

            SparkTrainJob.markOutput(store.fs(), outUri);
            long t1 = System.nanoTime();
            Map<String, Manifest.Status> status = new LinkedHashMap<>(d.status);
            if (!d.reasons.isEmpty()) {
                Broadcast<BroadcastModel> broadcast = r.baseOnExecutors() ? null
                        : sc.broadcast(BroadcastModel.read(model.uri(), conf));
                List<AdapterPlan> keyPlans = plan.perKeyPlans();
                JavaPairRDD<Integer, TrainRow> byKey = SparkTrainJob.rowsByPlan(data, keyPlans)
                        .persist(StorageLevel.MEMORY_AND_DISK());
                List<List<TreeSpec.Node>> levels = tree.levels();
                for (int l = 0; l < levels.size(); l++) {
                    trainLevel(l, levels.get(l), plan, d, status, keyPlans, byKey, new TreeTask(broadcast,
                            job, ancestors(tree), new HadoopConf(conf)), job, store, sc, out);
                }
                byKey.unpersist(false);
                if (broadcast != null) {
                    broadcast.destroy();
                }
                SparkTrainJob.cleanUp(store, outUri, status);
            }
            long t2 = System.nanoTime();
            sc.setJobDescription(null);
            TrainData.release(data);
            lease.checkHeld();
            List<AdapterPlan> nodes = new ArrayList<>(d.plans.values());
            ManifestFile written = Manifest.write(store, outUri, conf, Manifest.jobJson(r, model, baseSha, perKey),
                    nodes, status, d.fingerprints, Map.of(), perKey.skipped(), data.malformedSkipped(), lora);
            Map<String, ManifestFile.Adapter> entries = describeNodes(written, plan);
            List<ManifestFile.TreePath> paths = TreePaths.write(tree, entries, outUri, model.uri(), baseSha,
                    Fingerprint.settingsOf(template, model.tokenizer().digest()), pathRank, model.config(), conf);
            ManifestFile manifest = new ManifestFile(written.formatVersion(), written.writtenAt(), written.job(),
                    written.malformedRowsSkipped(), List.copyOf(entries.values()), null, written.skipped(), null,
                    paths, new ManifestFile.Tree(tree.source(), tree.levels().size()));
            Manifest.writeFile(conf, outUri, manifest);
            SparkTrainJob.printTable(manifest.adapters(), out);
            printPaths(paths, out);
            out.printf("Planning %.1f s, %d level stage(s) %.1f s, manifest and paths %.1f s%n", (t1 - t0) / 1e9,
                    tree.levels().size(), (t2 - t1) / 1e9, (System.nanoTime() - t2) / 1e9);
            int trained = SparkTrainJob.count(manifest.adapters(), Manifest.Status.TRAINED);
            int failed = SparkTrainJob.count(manifest.adapters(), Manifest.Status.FAILED);
            return new SparkTrainJob.Summary(trained, nodes.size() - trained - failed, perKey.skipped().size(),
                    failed, manifest, outUri);
        }
    }

    /** One level: its nodes that train (ancestors all committed) as one stage, then each node's status. */
    private static void trainLevel(int level, List<TreeSpec.Node> nodes, TreePlan plan, TreeDecisions d,
                                   Map<String, Manifest.Status> status, List<AdapterPlan> keyPlans,
                                   JavaPairRDD<Integer, TrainRow> byKey, TreeTask template, TrainJobSpec job,
                                   AdapterStore store, JavaSparkContext sc, PrintStream out) throws IOException {
        List<AdapterPlan> stage = new ArrayList<>();
        for (TreeSpec.Node n : nodes) {
            String failed = failedAncestor(plan.tree(), n.name(), status);
            if (failed != null && !status.containsKey(n.name())) {
                status.put(n.name(), Manifest.Status.failed("its ancestor " + failed + " failed",
                        Manifest.Status.TRANSIENT));
            } else if (d.reasons.containsKey(n.name()) && !status.containsKey(n.name())) {
                stage.add(d.plans.get(n.name()).at(stage.size()));
            }
        }
        if (stage.isEmpty()) {
            return;
        }
        Map<String, Integer> keyIndex = new HashMap<>();
        keyPlans.forEach(p -> keyIndex.put(p.key() == null ? TrainData.NULL_KEY : p.key(), p.index()));
        // A slot per (node, key) of the stage, node by node, keys in index order: the stage sorts rows by slot, then
        // content, so a node's task reads its keys' rows one key after another, each in packing order.
        List<Integer> nodeOfSlot = new ArrayList<>();
        Map<Integer, List<Integer>> slotsOfKey = new HashMap<>(); // key partition -> slots of this stage
        for (AdapterPlan p : stage) {
            plan.keys(p.name()).stream().map(keyIndex::get).sorted().forEach(k -> {
                slotsOfKey.computeIfAbsent(k, x -> new ArrayList<>()).add(nodeOfSlot.size());
                nodeOfSlot.add(p.index());
            });
        }
        AdapterBins slots = AdapterBins.assigned(nodeOfSlot.stream().mapToInt(Integer::intValue).toArray(),
                stage.size());
        TrainJobSpec spec = new TrainJobSpec(job.template(), stage, job.outUri(), job.baseModelUri(),
                job.baseModelSha256(), job.tokenizer(), job.progressSeconds(), TestHooks.NONE, job.versions(),
                job.spillRows());
        TreeTask task = template.forStage(spec);
        sc.setJobDescription("spark-lora: tree level " + level + ": train " + stage.size() + " node(s) "
                + stage.stream().map(AdapterPlan::name).toList());
        out.println("Level " + level + ": training " + stage.size() + " node(s) " + stage.stream()
                .map(AdapterPlan::name).toList());
        Map<String, AdapterOutcome> outcomes = new HashMap<>();
        String stageFailure = null;
        try {
            JavaPairRDD<Integer, TrainRow> rows = byKey.flatMapToPair(t -> {
                List<Tuple2<Integer, TrainRow>> to = new ArrayList<>();
                slotsOfKey.getOrDefault(t._1(), List.of()).forEach(slot -> to.add(new Tuple2<>(slot, t._2())));
                return to.iterator();
            });
            for (AdapterOutcome o : AdapterBins.stage(rows, slots, stage.size() + " node(s)", task::call)
                    .collect()) {
                outcomes.put(o.name, o);
            }
        } catch (Exception e) { // the stage aborted: keep what committed
            stageFailure = TrainData.firstLine(SparkTrainJob.rootMessage(e));
            LOG.error("Tree level {} failed: {}", level, stageFailure, e);
        }
        for (AdapterPlan p : stage) {
            AdapterOutcome o = outcomes.get(p.name());
            if (o != null && o.status.equals(Manifest.Status.FAILED)) {
                status.put(p.name(), Manifest.Status.failed(o.reason, Manifest.Status.DETERMINISTIC));
            } else if (store.isCommitted(p.name(), d.fingerprints.get(p.name()))) {
                status.put(p.name(), Manifest.Status.trained(d.reasons.get(p.name()).replaceFirst("^trained: ", "")));
            } else {
                status.put(p.name(), Manifest.Status.failed("its task failed: " + (stageFailure != null ? stageFailure
                        : "no result"), Manifest.Status.TRANSIENT));
            }
        }
    }

    private static String failedAncestor(TreeSpec tree, String name, Map<String, Manifest.Status> status) {
        List<String> path = tree.path(name);
        return path.subList(0, path.size() - 1).stream().filter(a -> status.containsKey(a)
                && status.get(a).isFailed()).findFirst().orElse(null);
    }

    private static Map<String, List<String>> ancestors(TreeSpec tree) {
        Map<String, List<String>> out = new HashMap<>();
        for (TreeSpec.Node n : tree.nodes()) {
            List<String> path = tree.path(n.name());
            out.put(n.name(), new ArrayList<>(path.subList(0, path.size() - 1)));
        }
        return out;
    }

    /** Each node's manifest entry with its parent, keys and level, by node name (in the manifest's order). */
    private static Map<String, ManifestFile.Adapter> describeNodes(ManifestFile manifest, TreePlan plan) {
        Map<String, ManifestFile.Adapter> out = new LinkedHashMap<>();
        for (ManifestFile.Adapter a : manifest.adapters()) {
            TreeSpec.Node n = plan.tree().node(a.name());
            List<String> keys = plan.keys(a.name()).stream().map(k -> k.equals(TrainData.NULL_KEY) ? null : k)
                    .collect(java.util.stream.Collectors.toList()); // a null key value stays null
            out.put(a.name(), a.node(n.parent(), keys, plan.tree().path(a.name()).size() - 1));
        }
        return out;
    }

    private static void printPaths(List<ManifestFile.TreePath> paths, PrintStream out) {
        out.printf("%n%-24s %6s  %-40s %s%n", "path", "rank", "nodes", "status");
        for (ManifestFile.TreePath p : paths) {
            String svd = p.svdMaxRelativeError() != null ? String.format(" (rank %d of %d, SVD error %.3g)",
                    p.pathRank(), p.rankSum(), p.svdMaxRelativeError()) : "";
            out.printf("%-24s %6s  %-40s %s%s%n", p.name(), p.rank() == null ? "-" : p.rank().toString(),
                    String.join(" > ", p.nodes()), p.status(), svd);
        }
        out.println("Paths: serve them under their leaf names; vLLM needs --max-lora-rank >= the largest path rank.");
    }
}
