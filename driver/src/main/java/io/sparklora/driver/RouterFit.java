package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.TrainSpec;
import io.sparklora.route.NgramCounts;
import io.sparklora.route.NgramRouter;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The router of {@code model: "auto"}, fitted at the end of {@code train} ({@link NgramRouter}): one Spark stage counts
 * each adapter's training windows, its rows streamed in content order into {@link KeyWindows} as training packed them
 * (in the heap, or past {@code --spill-rows} in a spill file), the driver builds the router, and a second stage
 * classifies every adapter's held-out windows — the windows the adapters were never trained on, split as training
 * split them — giving the router's accuracy per partition against the rows' true keys. Writes
 * {@code <out>/router.json} (the counts, that accuracy and where each adapter's windows were) and returns the summary
 * the manifest records under {@code router}.
 *
 * <p>Fitted only for {@code --partition-by} outputs with two adapters or more: random shards have no key to learn.
 */
public final class RouterFit {
    private RouterFit() {
    }

    /**
     * The hook of {@code train}, after the training stage: fits the router of the adapters that did not fail when the
     * output is split by key and has two of them; returns the manifest's {@code router} entry, or null.
     */
    /**
     * Past this many adapters no router is fitted: the naive Bayes tables grow by {@link NgramRouter#DEFAULT_BUCKETS}
     * counts per class, so at thousands of adapters they cost more to fit, ship and evaluate than the training itself
     * (2,000 micro adapters: 130 s against a 19 s training stage).
     */
    static final int MAX_ADAPTERS = 256;

    static ObjectNode afterTraining(JavaSparkContext sc, TrainData.Read data, DataOptions options,
                                    List<AdapterPlan> adapters, java.util.Map<String, Manifest.Status> status,
                                    TrainSpec template, TokenizerSpec tokenizer, long spillRows, String outUri,
                                    PrintStream out) throws IOException {
        List<AdapterPlan> servable = adapters.stream().filter(p -> !status.get(p.name()).isFailed()).toList();
        if (options.partitionBy() == null || servable.size() < 2) {
            return null;
        }
        if (servable.size() > MAX_ADAPTERS) {
            out.println("Router: not fitted for " + servable.size() + " adapters (more than " + MAX_ADAPTERS
                    + ": its tables would hold " + NgramRouter.DEFAULT_BUCKETS + " counts per adapter and every "
                    + "prediction would score each one); model \"auto\" routes by the adapters' loss");
            Path stale = new Path(outUri, NgramRouter.FILE); // an earlier run's router would route among its adapters
            stale.getFileSystem(sc.hadoopConfiguration()).delete(stale, false);
            return null;
        }
        return fitAndWrite(sc, data, servable, template, tokenizer, spillRows, outUri, out);
    }

    /**
     * Fits, evaluates and writes the router of the (non-failed) adapters; returns the manifest's {@code router} entry.
     * The rows' sorted shuffle to their adapter's task ({@link AdapterBins#sorted}) is shared by both stages.
     */
    static ObjectNode fitAndWrite(JavaSparkContext sc, TrainData.Read data, List<AdapterPlan> adapters,
                                  TrainSpec template, TokenizerSpec tokenizer, long spillRows, String outUri,
                                  PrintStream out) throws IOException {
        List<AdapterPlan> plans = new ArrayList<>();
        for (AdapterPlan p : adapters) {
            plans.add(p.at(plans.size()));
        }
        RouterTask task = new RouterTask(template, plans, tokenizer, NgramRouter.DEFAULT_ORDER,
                NgramRouter.DEFAULT_BUCKETS, spillRows);
        sc.setJobDescription("spark-lora: fit the router (n-gram naive Bayes) on " + plans.size() + " partition(s)");
        JavaPairRDD<scala.Tuple2<Integer, TrainRow>, Object> rows = AdapterBins.sorted(
                SparkTrainJob.keyedRows(data, plans), AdapterBins.onePerTask(plans.size()),
                plans.size() + " adapter(s) for the router");
        List<NgramCounts> counts = new ArrayList<>(rows.mapPartitionsWithIndex((i, it) -> task.count(i,
                AdapterBins.keys(it)), false).collect());
        counts.sort((a, b) -> Integer.compare(indexOf(plans, a.name()), indexOf(plans, b.name())));
        NgramRouter router = new NgramRouter(counts, NgramRouter.DEFAULT_ALPHA);
        byte[] fitted = router.toJson(null);
        sc.setJobDescription("spark-lora: router accuracy on the held-out windows of " + plans.size()
                + " partition(s)");
        List<long[]> confusion = rows.mapPartitionsWithIndex((i, it) -> task.confusion(fitted, i,
                AdapterBins.keys(it)), false).collect();
        ObjectNode heldOut = summary(plans, confusion);
        Configuration conf = sc.hadoopConfiguration();
        Path file = new Path(outUri, NgramRouter.FILE);
        FileSystem fs = file.getFileSystem(conf);
        Manifest.writeAtomically(fs, conf, file, router.toJson(heldOut));
        ObjectNode entry = heldOut.deepCopy();
        entry.put("path", NgramRouter.FILE);
        entry.put("kind", NgramRouter.KIND);
        out.printf(Locale.ROOT, "Router: %s, held-out accuracy %s over %d window(s), %s on their first %d tokens%n",
                NgramRouter.FILE, percent(heldOut.path("accuracy")), heldOut.path("held_out_windows").asLong(),
                percent(heldOut.path("accuracy_first_" + RouterTask.PREFIX_TOKENS + "_tokens")),
                RouterTask.PREFIX_TOKENS);
        return entry;
    }

    /**
     * Accuracy overall and per adapter (of whole windows, and of their first tokens alone), and the confusion matrix of
     * whole windows (true adapter → predicted adapter → windows).
     */
    static ObjectNode summary(List<AdapterPlan> plans, List<long[]> confusion) {
        ObjectNode o = TrainingRecord.JSON.createObjectNode();
        long total = 0;
        long correct = 0;
        long prefixCorrect = 0;
        ArrayNode per = TrainingRecord.JSON.createArrayNode();
        ObjectNode matrix = TrainingRecord.JSON.createObjectNode();
        for (long[] row : confusion) {
            int i = (int) row[0];
            long n = 0;
            ObjectNode predicted = matrix.putObject(plans.get(i).name());
            for (int c = 0; c < plans.size(); c++) {
                n += row[1 + c];
                if (row[1 + c] > 0) {
                    predicted.put(plans.get(c).name(), row[1 + c]);
                }
            }
            total += n;
            correct += row[1 + i];
            prefixCorrect += row[1 + plans.size()];
            ObjectNode a = per.addObject();
            a.put("name", plans.get(i).name());
            a.put("key", plans.get(i).key());
            a.put("held_out_windows", n);
            a.put("correct", row[1 + i]);
            putAccuracy(a, "accuracy", row[1 + i], n);
            putAccuracy(a, "accuracy_first_" + RouterTask.PREFIX_TOKENS + "_tokens", row[1 + plans.size()], n);
            a.put("windows_in", row[2 + plans.size()] == 1 ? KeyWindows.SPILL_FILE : KeyWindows.MEMORY);
        }
        o.put("held_out_windows", total);
        putAccuracy(o, "accuracy", correct, total);
        putAccuracy(o, "accuracy_first_" + RouterTask.PREFIX_TOKENS + "_tokens", prefixCorrect, total);
        o.set("per_adapter", per);
        o.set("confusion", matrix);
        return o;
    }

    private static void putAccuracy(ObjectNode o, String field, long correct, long n) {
        if (n == 0) {
            o.putNull(field);
        } else {
            o.put(field, (double) correct / n);
        }
    }

    private static String percent(JsonNode accuracy) {
        return accuracy.isNumber() ? String.format(Locale.ROOT, "%.1f %%", 100 * accuracy.asDouble()) : "-";
    }

    private static int indexOf(List<AdapterPlan> plans, String name) {
        for (AdapterPlan p : plans) {
            if (p.name().equals(name)) {
                return p.index();
            }
        }
        throw new IllegalStateException("Router counts of unknown adapter " + name);
    }
}
