package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code eval} job: every adapter of a train output (from its manifest.json) and the base, on the held-out windows
 * of every data partition — the same deterministic split {@code train} used — in one Spark stage (one task per
 * partition). Writes a JSON matrix: rows = adapters then {@code base}, columns = partitions, mean loss and perplexity.
 */
public final class SparkEvalJob {
    private SparkEvalJob() {
    }

    public static ObjectNode run(SparkSession spark, String modelUri, String adaptersUri, String dataPath,
                                 String partitionBy, String outUri, PrintStream out) throws IOException {
        return run(spark, modelUri, adaptersUri, dataPath, partitionBy, "auto", EvalPairs.DEFAULT_SAMPLE, null, outUri,
                out);
    }

    /**
     * @param pairs     {@code all} (every adapter on every partition), {@code sampled} (each partition's own adapter
     *                  and {@code sample} others, see {@link EvalPairs}) or {@code auto} (all up to
     *                  {@value EvalPairs#ALL_UP_TO} adapters)
     * @param spillRows a partition of more rows packs its held-out windows into a spill file on the executor's local
     *                  disk ({@link KeyWindows}); null: the train run's {@code job.spill_rows}, else
     *                  {@link TrainJobSpec#DEFAULT_SPILL_ROWS}
     */
    public static ObjectNode run(SparkSession spark, String modelUri, String adaptersUri, String dataPath,
                                 String partitionBy, String pairs, int sample, Long spillRows, String outUri,
                                 PrintStream out) throws IOException {
        if (spillRows != null && spillRows < 1) {
            throw new IllegalArgumentException("Invalid --spill-rows " + spillRows + ": must be >= 1");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        sc.setJobGroup("spark-lora-eval", "spark-lora eval " + adaptersUri, false);
        Path manifestPath = new Path(adaptersUri, Manifest.FILE);
        FileSystem fs = manifestPath.getFileSystem(conf);
        if (!fs.exists(manifestPath)) {
            throw new IllegalArgumentException("Cannot evaluate adapters " + adaptersUri + ": no " + Manifest.FILE
                    + " (is it the --out of a finished train?)");
        }
        ManifestFile manifest = Manifest.parse(Manifest.read(fs, manifestPath),
                manifestPath.toString());
        ManifestFile.Job job = manifest.job();
        if (job == null) {
            throw new IOException("Cannot read " + manifestPath + ": it has no job (how the data was read and split), "
                    + "which eval reads the data with");
        }
        ModelStore.ModelInfo model = ModelStore.describe(modelUri, conf);
        DataOptions data = Manifest.dataOptions(job, dataPath, partitionBy);
        TrainSpec template = TrainSpec.lora("eval", LoraConfig.defaults()).steps(1)
                .seqLen(job.seqLen()).batchSize(job.batchSize()).heldOutFraction(job.heldOutFraction())
                .seed(job.seed()).build();
        List<String> names = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        List<String> adapterKeys = new ArrayList<>();
        // a tree output (train --tree): its leaves' whole paths, as serve offers them; a node's delta needs its ancestors
        for (ManifestFile.Entry a : manifest.offered()) {
            if (a.isFailed()) {
                continue; // no adapter was committed
            }
            names.add(a.name());
            adapterKeys.add(a.key());
            dirs.add(fs.makeQualified(new Path(adaptersUri, a.path())).toString());
        }
        sc.setJobDescription("spark-lora eval: read data and count rows per partition");
        TrainData.Read read = TrainData.tokenized(TrainData.read(spark, data), model.tokenizer());
        TrainPlanner.Plan plan = TrainPlanner.plan(read, data,
                new TrainPlanner.Windowing(template.seqLen(), template.heldOutFraction()));
        EvalPairs chosen = new EvalPairs(EvalPairs.Mode.parse(pairs, names.size()), adapterKeys, plan.adapters(), sample,
                data.seed());
        out.println("Evaluating " + chosen);
        Broadcast<BroadcastModel> base = sc.broadcast(BroadcastModel.read(model.uri(), conf));
        sc.setJobDescription("spark-lora eval: " + names.size() + " adapter(s) + base on " + plan.adapters().size()
                + " partition(s)");
        long spill = spillRows != null ? spillRows : job.spillRows() != null ? job.spillRows()
                : TrainJobSpec.DEFAULT_SPILL_ROWS;
        EvalTask task = new EvalTask(base, template, plan.adapters(), dirs, chosen, model.tokenizer(),
                new HadoopConf(conf), spill);
        int partitions = plan.adapters().size();
        List<double[]> cells = AdapterBins.sorted(SparkTrainJob.keyedRows(read, plan.adapters()),
                        AdapterBins.onePerTask(partitions), partitions + " partition(s)")
                .mapPartitionsWithIndex((i, rows) -> task.call(i, AdapterBins.keys(rows)), false).collect();
        base.destroy();
        TrainData.release(read);
        if (chosen.mode() == EvalPairs.Mode.SAMPLED) {
            ObjectNode sampled = SampledEval.json(model.uri(), adaptersUri, data.path(), names, plan.adapters(),
                    chosen, cells);
            writeJson(outUri, conf, sampled);
            SampledEval.printSummary(sampled, out);
            return sampled;
        }

        ObjectNode m = TrainingRecord.JSON.createObjectNode();
        m.put("format_version", 1);
        m.put("model", model.uri());
        m.put("adapters", adaptersUri);
        m.put("data", data.path());
        ArrayNode columns = m.putArray("columns");
        ArrayNode keys = m.putArray("column_keys");
        ArrayNode windows = m.putArray("held_out_windows");
        ArrayNode windowsIn = m.putArray("windows_in");
        for (int p = 0; p < plan.adapters().size(); p++) {
            columns.add(plan.adapters().get(p).name());
            keys.add(plan.adapters().get(p).key());
            windows.add((long) cells.get(p)[names.size() + 1]);
            windowsIn.add(windowsIn(cells.get(p)));
        }
        ArrayNode rows = m.putArray("rows");
        for (int a = 0; a <= names.size(); a++) {
            ObjectNode row = rows.addObject();
            row.put("adapter", a < names.size() ? names.get(a) : "base");
            ArrayNode loss = row.putArray("loss");
            ArrayNode ppl = row.putArray("perplexity");
            for (double[] c : cells) {
                if (Double.isNaN(c[a])) {
                    loss.addNull();
                    ppl.addNull();
                } else {
                    loss.add(c[a]);
                    ppl.add(Math.exp(c[a]));
                }
            }
        }
        writeJson(outUri, conf, m);
        out.printf("%-24s", "held-out loss");
        for (JsonNode c : columns) {
            out.printf(" %12s", c.asText());
        }
        out.println();
        for (JsonNode row : rows) {
            out.printf("%-24s", row.path("adapter").asText());
            for (JsonNode v : row.path("loss")) {
                out.printf(" %12s", v.isNull() ? "-" : String.format("%.4f", v.asDouble()));
            }
            out.println();
        }
        return m;
    }

    /** Where a cell's partition kept its windows, from {@link EvalTask#call}'s last figure. */
    static String windowsIn(double[] cell) {
        return cell[cell.length - 1] == 1 ? KeyWindows.SPILL_FILE : KeyWindows.MEMORY;
    }

    private static void writeJson(String outUri, Configuration conf, ObjectNode m) throws IOException {
        Path target = new Path(outUri);
        FileSystem outFs = target.getFileSystem(conf);
        outFs.mkdirs(target.getParent());
        Manifest.writeAtomically(outFs, conf, target, TrainingRecord.JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(m));
    }
}
