package io.sparklora.output;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonView;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code training.json} as one typed document, its only spelling, in its three kinds: an adapter's or a
 * {@code train --full} model's ({@code adapters/<name>/}, {@code models/<name>/}: written by the driver's
 * {@code TrainingRecord}), {@code pretrain}'s ({@code command: "pretrain"}, beside its checkpoint) and a tree path's
 * ({@code paths/<leaf>/}: {@code tree_path} and its nodes, written by {@code TreePaths}). {@link #read} is the one
 * reader. Fields a kind does not have are left out; an adapter's record always has {@code key} and {@code lora}, null
 * when it has none (a null key; {@code train --full}). Unknown fields are ignored on read, as in {@link ManifestFile}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"format_version", "tree_path", "nodes", "rank", "rank_sum", "path_rank", "svd_max_relative_error",
        "svd_relative_error", "command", "adapter", "key", "versions", "base_model", "data_source", "fingerprint",
        "seed", "train_spec", "mode", "trainable_params", "lora", "data", "fused_with", "steps", "tokens_trained",
        "resumed_from_step", "attempt", "final_train_loss", "final_held_out_loss", "base_held_out_loss",
        "train_history", "held_out_history", "timings", "started_at", "finished_at"})
public record TrainingFile(
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("tree_path") String treePath,
        @JsonProperty("nodes") List<String> nodes,
        @JsonProperty("rank") Integer rank,
        @JsonProperty("rank_sum") Integer rankSum,
        @JsonProperty("path_rank") Integer pathRank,
        @JsonProperty("svd_max_relative_error") Double svdMaxRelativeError,
        @JsonProperty("svd_relative_error") Map<String, Double> svdRelativeError,
        @JsonProperty("command") String command,
        @JsonProperty("adapter") String adapter,
        @JsonProperty("key") @JsonInclude(JsonInclude.Include.ALWAYS) @JsonView(AdapterView.class) String key,
        @JsonProperty("versions") Versions versions,
        @JsonProperty("base_model") BaseModel baseModel,
        @JsonProperty("data_source") DataSource dataSource,
        @JsonProperty("fingerprint") ManifestFile.Fingerprint fingerprint,
        @JsonProperty("seed") Long seed,
        @JsonProperty("train_spec") Spec trainSpec,
        @JsonProperty("mode") String mode,
        @JsonProperty("trainable_params") Long trainableParams,
        @JsonProperty("lora") @JsonInclude(JsonInclude.Include.ALWAYS) @JsonView(AdapterView.class) Lora lora,
        @JsonProperty("data") Data data,
        @JsonProperty("fused_with") List<String> fusedWith,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("tokens_trained") Long tokensTrained,
        @JsonProperty("resumed_from_step") Integer resumedFromStep,
        @JsonProperty("attempt") Integer attempt,
        @JsonProperty("final_train_loss") @JsonSerialize(using = Documents.NanAsNull.class)
        @JsonDeserialize(using = Documents.NullAsNan.class) Double finalTrainLoss,
        @JsonProperty("final_held_out_loss") @JsonSerialize(using = Documents.NanAsNull.class)
        @JsonDeserialize(using = Documents.NullAsNan.class) Double finalHeldOutLoss,
        @JsonProperty("base_held_out_loss") @JsonSerialize(using = Documents.NanAsNull.class)
        @JsonDeserialize(using = Documents.NullAsNan.class) Double baseHeldOutLoss,
        @JsonProperty("train_history") List<Point> trainHistory,
        @JsonProperty("held_out_history") List<Point> heldOutHistory,
        @JsonProperty("timings") Timings timings,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("finished_at") String finishedAt) {
    public static final String FILE = "training.json";
    /** The newest format this spark-lora writes and reads. */
    public static final int FORMAT_VERSION = 1;
    /** {@link #command} of a {@code pretrain} record. */
    public static final String PRETRAIN = "pretrain";

    /** The fields only an adapter's (or model's) record has, and always has ({@code key}, {@code lora}). */
    public interface AdapterView {
    }

    /** The view of every other kind. */
    public interface OtherView {
    }

    public TrainingFile {
        nodes = copy(nodes);
        fusedWith = copy(fusedWith);
        trainHistory = trainHistory == null ? null : List.copyOf(trainHistory);
        heldOutHistory = heldOutHistory == null ? null : List.copyOf(heldOutHistory);
        svdRelativeError = svdRelativeError == null ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(svdRelativeError));
    }

    /** An adapter's (or {@code train --full} model's) record: everything but pretrain's and tree paths' fields. */
    public static TrainingFile adapter(String adapter, String key, Versions versions, BaseModel baseModel,
                                       ManifestFile.Fingerprint fingerprint, long seed, Spec trainSpec, String mode,
                                       long trainableParams, Lora lora, Data data, List<String> fusedWith, int steps,
                                       int resumedFromStep, int attempt, double finalTrainLoss,
                                       double finalHeldOutLoss, double baseHeldOutLoss, List<Point> trainHistory,
                                       List<Point> heldOutHistory, Timings timings, String startedAt,
                                       String finishedAt) {
        return new TrainingFile(FORMAT_VERSION, null, null, null, null, null, null, null, null, adapter, key,
                versions, baseModel, null, fingerprint, seed, trainSpec, mode, trainableParams, lora, data,
                fusedWith == null || fusedWith.isEmpty() ? null : fusedWith, steps, null, resumedFromStep, attempt,
                finalTrainLoss, finalHeldOutLoss, baseHeldOutLoss, trainHistory, heldOutHistory, timings, startedAt,
                finishedAt);
    }

    /** {@code pretrain}'s record: the same histories, losses and timings as an adapter's, its data's source. */
    public static TrainingFile pretrain(Versions versions, BaseModel baseModel, DataSource dataSource, long seed,
                                        Spec trainSpec, Data data, int steps, long tokensTrained,
                                        double finalTrainLoss, double finalHeldOutLoss, double baseHeldOutLoss,
                                        List<Point> trainHistory, List<Point> heldOutHistory, Timings timings,
                                        String startedAt, String finishedAt) {
        return new TrainingFile(FORMAT_VERSION, null, null, null, null, null, null, null, PRETRAIN, null, null,
                versions, baseModel, dataSource, null, seed, trainSpec, null, null, null, data, null, steps,
                tokensTrained, null, null, finalTrainLoss, finalHeldOutLoss, baseHeldOutLoss, trainHistory,
                heldOutHistory, timings, startedAt, finishedAt);
    }

    /**
     * A tree path's record: its nodes, its rank and the sum of its nodes' ranks, and with {@code pathRank} (an SVD
     * to that rank) the largest and the per-module relative errors.
     */
    public static TrainingFile treePath(String leaf, List<String> nodes, int rank, int rankSum, Integer pathRank,
                                        Double svdMaxRelativeError, Map<String, Double> svdRelativeError) {
        return new TrainingFile(FORMAT_VERSION, leaf, nodes, rank, rankSum, pathRank, svdMaxRelativeError,
                svdRelativeError, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** Parses {@code bytes} as a training.json: strict JSON, a checked format_version, the typed fields. */
    public static TrainingFile read(byte[] bytes, String where) throws IOException {
        return Documents.read(bytes, where, FORMAT_VERSION, TrainingFile.class);
    }

    /** Pretty-printed, as written to {@code training.json} (pretrain's adds a newline after it). */
    public byte[] toJson() throws IOException {
        return Documents.toJson(this, adapter != null ? AdapterView.class : OtherView.class);
    }

    /** The targets of its LoRA config, or null (no LoRA, or none recorded). */
    public List<String> targets() {
        return lora == null ? null : lora.targetModules();
    }

    /** Wall-clock seconds of the run, or null when not recorded. */
    public Double totalSeconds() {
        return timings == null ? null : timings.totalSeconds();
    }

    private static List<String> copy(List<String> l) {
        return l == null ? null : Collections.unmodifiableList(new ArrayList<>(l));
    }

    /** What made it: spark-lora's, Spark's ({@code train} only) and Java's versions. */
    @JsonPropertyOrder({"spark_lora", "spark", "java"})
    public record Versions(@JsonProperty("spark_lora") @JsonInclude(JsonInclude.Include.ALWAYS) String sparkLora,
                           @JsonProperty("spark") String spark,
                           @JsonProperty("java") @JsonInclude(JsonInclude.Include.ALWAYS) String java) {
    }

    /** The base model trained on: its path, its directory's SHA-256 and ({@code train}) its tokenizer. */
    @JsonPropertyOrder({"path", "sha256", "tokenizer"})
    public record BaseModel(@JsonProperty("path") @JsonInclude(JsonInclude.Include.ALWAYS) String path,
                            @JsonProperty("sha256") @JsonInclude(JsonInclude.Include.ALWAYS) String sha256,
                            @JsonProperty("tokenizer") String tokenizer) {
    }

    /** pretrain's input file: its path, SHA-256, format and text column. */
    @JsonPropertyOrder({"path", "sha256", "format", "text_column"})
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record DataSource(@JsonProperty("path") String path, @JsonProperty("sha256") String sha256,
                             @JsonProperty("format") String format, @JsonProperty("text_column") String textColumn) {
    }

    /** The training settings; {@code checkpoint_every} is {@code train}'s only. */
    @JsonPropertyOrder({"steps", "epochs", "batch_size", "seq_len", "learning_rate", "warmup_steps", "min_lr_ratio",
            "weight_decay", "grad_clip", "grad_accumulation", "eval_every", "checkpoint_every", "held_out_fraction"})
    public record Spec(@JsonProperty("steps") int steps, @JsonProperty("epochs") int epochs,
                       @JsonProperty("batch_size") int batchSize, @JsonProperty("seq_len") int seqLen,
                       @JsonProperty("learning_rate") double learningRate,
                       @JsonProperty("warmup_steps") int warmupSteps,
                       @JsonProperty("min_lr_ratio") double minLrRatio,
                       @JsonProperty("weight_decay") double weightDecay, @JsonProperty("grad_clip") double gradClip,
                       @JsonProperty("grad_accumulation") int gradAccumulation,
                       @JsonProperty("eval_every") int evalEvery,
                       @JsonProperty("checkpoint_every") Integer checkpointEvery,
                       @JsonProperty("held_out_fraction") double heldOutFraction) {
    }

    /** The LoRA config trained. */
    @JsonPropertyOrder({"rank", "alpha", "dropout", "target_modules", "use_rslora", "init_seed"})
    public record Lora(@JsonProperty("rank") int rank, @JsonProperty("alpha") double alpha,
                       @JsonProperty("dropout") double dropout,
                       @JsonProperty("target_modules") List<String> targetModules,
                       @JsonProperty("use_rslora") boolean useRslora, @JsonProperty("init_seed") long initSeed) {
        public Lora {
            targetModules = copy(targetModules);
        }
    }

    /** Its data: rows (and, {@code train}, rows too short for a window), tokens and windows. */
    @JsonPropertyOrder({"rows", "rows_too_short", "tokens", "target_tokens", "train_windows", "held_out_windows",
            "windows_in"})
    public record Data(@JsonProperty("rows") long rows, @JsonProperty("rows_too_short") Long rowsTooShort,
                       @JsonProperty("tokens") long tokens, @JsonProperty("target_tokens") long targetTokens,
                       @JsonProperty("train_windows") int trainWindows,
                       @JsonProperty("held_out_windows") int heldOutWindows,
                       @JsonProperty("windows_in") String windowsIn) {
    }

    /** One point of a loss history, {@code [step, loss, learning rate]} in the file. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"step", "loss", "learning_rate"})
    public record Point(@JsonProperty("step") int step, @JsonProperty("loss") double loss,
                        @JsonProperty("learning_rate") double learningRate) {
    }

    /** Where the run's wall-clock time went, and its training throughput. */
    @JsonPropertyOrder({"train_seconds", "eval_seconds", "checkpoint_seconds", "total_seconds", "tokens_per_second"})
    public record Timings(@JsonProperty("train_seconds") double trainSeconds,
                          @JsonProperty("eval_seconds") double evalSeconds,
                          @JsonProperty("checkpoint_seconds") double checkpointSeconds,
                          @JsonProperty("total_seconds") double totalSeconds,
                          @JsonProperty("tokens_per_second") double tokensPerSecond) {
    }
}
