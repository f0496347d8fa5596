package io.sparklora.cli;

import io.sparklora.driver.DataOptions;
import io.sparklora.driver.ExistingPolicy;
import io.sparklora.driver.RankSearch;
import io.sparklora.driver.SparkSessions;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.driver.SparkTreeJob;
import io.sparklora.driver.TreeFiles;
import io.sparklora.driver.TrainJobSpec;
import io.sparklora.driver.TrainRequest;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.report.Reports;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train}: one LoRA adapter per key value ({@code --partition-by}) or per random shard ({@code --shards}),
 * trained in parallel on Spark. This class only resolves the command line into a {@link TrainRequest}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train one LoRA adapter per partition of the data, in parallel on Spark.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "base model directory (file://, hdfs://, s3a://)")
    String model;

    @Option(names = "--data", required = true, description = "training data: file, directory or glob")
    String data;

    @Option(names = "--format", description = "jsonl, parquet, csv or text (default: from the extension, else jsonl)")
    String format;

    @Option(names = "--text-column", description = "text column (default: text; value for --format text)")
    String textColumn;

    @Option(names = "--prompt-column", description = "prompt column (with --completion-column: loss on the completion)")
    String promptColumn;

    @Option(names = "--completion-column", description = "completion column")
    String completionColumn;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Split split;

    static final class Split {
        @Option(names = "--partition-by", required = true, description = "one adapter per distinct value of COL")
        String partitionBy;

        @Option(names = "--shards", required = true, description = "K deterministic random shards, one adapter each")
        int shards;
    }

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank r, or auto: search per adapter from "
            + "--rank-min, doubling while the held-out loss improves by more than --rank-tolerance (default: "
            + "${DEFAULT-VALUE})")
    String rank;

    @Option(names = "--rank-min", defaultValue = "1", description = "--rank auto: first rank (default: "
            + "${DEFAULT-VALUE})")
    int rankMin;

    @Option(names = "--rank-max", defaultValue = "64", description = "--rank auto: largest rank (default: "
            + "${DEFAULT-VALUE})")
    int rankMax;

    @Option(names = "--rank-tolerance", defaultValue = "0.01", description = "--rank auto: relative held-out loss "
            + "improvement worth a doubling, and closeness to the best that is enough (default: ${DEFAULT-VALUE})")
    double rankTolerance;

    @Option(names = "--alpha", defaultValue = "16", description = "lora_alpha (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--dropout", defaultValue = "0", description = "lora_dropout (default: ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--targets", description = "target modules, comma-separated, or all-linear (default: q_proj,v_proj"
            + " for LLaMA, c_attn for GPT-2)")
    String targets;

    @Option(names = "--rslora", description = "scale by alpha/sqrt(r) (rsLoRA)")
    boolean rslora;

    @ArgGroup(exclusive = true)
    Length length;

    static final class Length {
        @Option(names = "--steps", description = "optimizer steps per adapter (default: 100)")
        Integer steps;

        @Option(names = "--epochs", description = "passes over each adapter's training windows")
        Integer epochs;
    }

    @Option(names = "--batch", defaultValue = "8", description = "windows per batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq", defaultValue = "128", description = "tokens per window (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--lr", defaultValue = "2e-4", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "0", description = "warm-up steps (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--held-out", defaultValue = "0.1", description = "fraction of windows held out (default: "
            + "${DEFAULT-VALUE})")
    double heldOut;

    static final int LORA_CHECKPOINT_EVERY = 50;

    /** Unset: every 50 steps for LoRA; none for {@code --full} (a full checkpoint is three times the model). */
    @Option(names = "--checkpoint-every", description = "checkpoint every N steps, so a retried task resumes "
            + "(default: 50; 0 = at the end only; with --full: none unless given, 0 = none)")
    Integer checkpointEvery;

    @Option(names = "--eval-every", defaultValue = "0", description = "held-out loss every N steps (default: at the "
            + "end only)")
    int evalEvery;

    @Option(names = "--seed", defaultValue = "42", description = "seed of shards, splits, data order, init, dropout "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--skip-malformed", description = "drop malformed JSONL lines (counted and reported) instead of "
            + "failing")
    boolean skipMalformed;

    @Option(names = "--base-on-executors", description = "executors read --model themselves instead of receiving a "
            + "broadcast (for bases too large to broadcast)")
    boolean baseOnExecutors;

    @Option(names = "--progress-seconds", defaultValue = "10", description = "seconds between progress lines of an "
            + "adapter (default: ${DEFAULT-VALUE})")
    double progressSeconds;

    @Option(names = "--existing", defaultValue = "retrain", description = "a committed adapter whose fingerprint (base"
            + " model, settings, data) differs: retrain (replace it), keep, or fail the job (default: ${DEFAULT-VALUE})")
    String existing;

    @Option(names = "--spill-rows", description = "a key of more rows than this packs its training windows into a "
            + "file on the executor's local disk, read in every pass, instead of the task's heap (default: "
            + TrainJobSpec.DEFAULT_SPILL_ROWS + "; also --full, --tree, --rank auto and sweep)")
    Long spillRows;

    @Option(names = "--full", description = "fine-tune all weights per partition instead of LoRA: writes "
            + "models/<name>/ (HF checkpoints); refused up front when it cannot fit the executor memory")
    boolean full;

    @Option(names = "--tree", description = "YAML file of nodes {name, parent, keys}: train a tree of adapters, each "
            + "over its ancestors, and flatten every leaf's path into paths/<leaf>/")
    String tree;

    @Option(names = "--path-rank", description = "with --tree: compress each leaf path to this rank by truncated SVD "
            + "(default: exact, rank = the path's ranks summed)")
    Integer pathRank;

    @Option(names = "--adapters-per-task", description = "train up to K adapters of a task fused over one base, each "
            + "frozen GEMM run once over their concatenated rows (LLaMA bases; each member checkpoints and resumes "
            + "as a single adapter); results equal K = 1 (default: 4 when batch × seq <= 256, the base is LLaMA, "
            + "--steps is given and there are at least 4 adapters per core; else 1)")
    Integer adaptersPerTask;

    @Option(names = "--out", required = true, description = "output directory (file://, hdfs://, s3a://)")
    String out;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--master", description = "Spark master URL (default: the active session, spark-submit's, or "
            + "local[*])")
    String master;

    /** Exit status when some adapters failed and the others committed (see README, "Exit codes"). */
    static final int SOME_FAILED = 3;

    @Override
    public Integer call() throws Exception {
        RankSearch search = RankSearchOptions.search(spec, rank, rankMin, rankMax, rankTolerance);
        TrainRequest request = request(full ? 0 : LORA_CHECKPOINT_EVERY); // --full: no checkpoints unless asked
        if (pathRank != null && tree == null) {
            throw new IllegalArgumentException("Invalid --path-rank " + pathRank + ": it needs --tree");
        }
        if (tree != null && (full || search != null)) {
            throw new IllegalArgumentException("Invalid --tree " + tree + ": it trains LoRA nodes of one --rank, "
                    + "not with --full or --rank auto");
        }
        if (adaptersPerTask != null && adaptersPerTask > 1 && (full || tree != null || search != null)) {
            throw new IllegalArgumentException("Invalid --adapters-per-task " + adaptersPerTask + ": it fuses the "
                    + "LoRA adapters of a plain train, not with --full, --tree or --rank auto");
        }
        if (full) {
            return FullTrainOptions.run(spec, request, master);
        }
        if (search != null) {
            return RankSearchOptions.run(request, search, master, out);
        }
        try (SparkSessions.Session s = SparkSessions.open(master, "spark-lora train")) {
            SparkTrainJob.Summary summary = tree == null ? SparkTrainJob.run(s.spark(), request, System.out)
                    : SparkTreeJob.run(s.spark(), request, TreeFiles.read(tree, s.spark().sparkContext()
                    .hadoopConfiguration()), pathRank, System.out);
            System.out.println("Trained " + summary.trained() + " adapter(s); " + summary.existing()
                    + " already complete; " + summary.failed() + " failed; " + summary.skipped()
                    + " key(s) skipped. Manifest: " + summary.outUri() + "/manifest.json");
            Reports.render(summary.outUri(), null, s.spark().sparkContext().hadoopConfiguration(), System.out);
            return summary.failed() > 0 ? SOME_FAILED : 0;
        }
    }

    /** The request with LoRA's checkpoint default (also what {@code sweep} trains its plane with). */
    TrainRequest request() {
        return request(LORA_CHECKPOINT_EVERY);
    }

    /** The request; {@code defaultCheckpointEvery} when {@code --checkpoint-every} is not given. */
    TrainRequest request(int defaultCheckpointEvery) {
        DataOptions dataOptions = new DataOptions(data, format, textColumn, promptColumn, completionColumn,
                split.partitionBy, split.partitionBy != null ? 0 : split.shards, seed, skipMalformed);
        LoraConfig lora = LoraConfig.defaults().withRank(RankSearchOptions.fixedRank(rank, rankMin))
                .withAlpha(alpha).withDropout(dropout).withSeed(seed);
        if (rslora) {
            lora = lora.withRslora();
        }
        List<String> targetList = targets == null ? null
                : Arrays.stream(targets.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList();
        if (targetList != null) {
            lora = lora.withTargetModules(targetList); // validates the names now
        }
        TrainSpec.Builder spec = TrainSpec.lora("adapter", lora).batchSize(batch).seqLen(seq).learningRate(lr)
                .warmupSteps(warmup).heldOutFraction(heldOut).checkpointEvery(checkpointEvery != null ? checkpointEvery
                        : defaultCheckpointEvery).evalEvery(evalEvery)
                .seed(seed);
        if (length != null && length.epochs != null) {
            spec.epochs(length.epochs);
        } else if (length != null && length.steps != null) {
            spec.steps(length.steps);
        }
        return new TrainRequest(model, dataOptions, out, lora, targetList, spec.build(), baseOnExecutors,
                progressSeconds, ExistingPolicy.parse(existing),
                spillRows != null ? spillRows : TrainJobSpec.DEFAULT_SPILL_ROWS, adaptersPerTask);
    }
}
