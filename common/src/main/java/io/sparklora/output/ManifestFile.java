package io.sparklora.output;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code <out>/manifest.json} of a {@code train} output as one typed document, its only spelling: the driver's
 * {@code Manifest} builds and writes it, {@link #read} is the one reader (driver, eval, serve). Fields a run does not
 * have are left out: {@code models} only for {@code train --full}, {@code router} with a fitted router, {@code paths}
 * and {@code tree} for {@code train --tree}, {@code rank_search} for {@code --rank auto}. Unknown fields are ignored on
 * read, as every reader did before this record: a later minor addition at the same format_version stays readable.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"format_version", "written_at", "job", "malformed_rows_skipped", "adapters", "models", "skipped",
        "router", "paths", "tree"})
public record ManifestFile(
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("written_at") String writtenAt,
        @JsonProperty("job") Job job,
        @JsonProperty("malformed_rows_skipped") long malformedRowsSkipped,
        @JsonProperty("adapters") List<Adapter> adapters,
        @JsonProperty("models") List<Adapter> models,
        @JsonProperty("skipped") List<Skipped> skipped,
        @JsonProperty("router") JsonNode router,
        @JsonProperty("paths") List<TreePath> paths,
        @JsonProperty("tree") Tree tree) {
    public static final String FILE = "manifest.json";
    /** The newest format this spark-lora writes and reads. */
    public static final int FORMAT_VERSION = 1;

    public static final String TRAINED = "trained";
    public static final String EXISTING = "existing";
    public static final String FAILED = "failed";
    private static final Set<String> STATUSES = Set.of(TRAINED, EXISTING, FAILED);

    public ManifestFile {
        adapters = adapters == null ? List.of() : List.copyOf(adapters);
        skipped = skipped == null ? List.of() : List.copyOf(skipped);
        models = models == null ? null : List.copyOf(models);
        paths = paths == null ? null : List.copyOf(paths);
    }

    /**
     * The servable and evaluable entries: a tree output's {@code paths} when it has them, else {@code adapters}
     * (and for {@code train --full}, whose {@code adapters} is empty, nothing: its entries are {@link #models}).
     */
    public List<? extends Entry> offered() {
        return paths != null ? paths : adapters;
    }

    /** Parses {@code bytes} as a manifest.json: strict JSON, a checked format_version, the typed fields. */
    public static ManifestFile read(byte[] bytes, String where) throws IOException {
        return Documents.read(bytes, where, FORMAT_VERSION, ManifestFile.class);
    }

    /** Pretty-printed, as written to {@code manifest.json}. */
    public byte[] toJson() throws IOException {
        return Documents.toJson(this);
    }

    /** What an adapter, model or tree path entry shares: a name, a path in the output, a status. */
    public interface Entry {
        String name();

        /** The partition-key value it was trained on; null for a shard, a tree path, or when not recorded. */
        default String key() {
            return null;
        }

        String path();

        String status();

        @com.fasterxml.jackson.annotation.JsonIgnore
        default boolean isFailed() {
            return FAILED.equals(status());
        }
    }

    /** How the data was read and split and the settings every adapter shares (eval re-reads the data with them). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"model", "base_model_sha256", "data", "format", "text_column", "prompt_column",
            "completion_column", "partition_by", "shards", "seed", "skip_malformed", "seq_len", "batch_size",
            "held_out_fraction", "mode", "rank_auto", "spill_rows", "largest_keys"})
    public record Job(
            @JsonProperty("model") @JsonInclude(JsonInclude.Include.ALWAYS) String model,
            @JsonProperty("base_model_sha256") @JsonInclude(JsonInclude.Include.ALWAYS) String baseModelSha256,
            @JsonProperty("data") @JsonInclude(JsonInclude.Include.ALWAYS) String data,
            @JsonProperty("format") @JsonInclude(JsonInclude.Include.ALWAYS) String format,
            @JsonProperty("text_column") @JsonInclude(JsonInclude.Include.ALWAYS) String textColumn,
            @JsonProperty("prompt_column") @JsonInclude(JsonInclude.Include.ALWAYS) String promptColumn,
            @JsonProperty("completion_column") @JsonInclude(JsonInclude.Include.ALWAYS) String completionColumn,
            @JsonProperty("partition_by") @JsonInclude(JsonInclude.Include.ALWAYS) String partitionBy,
            @JsonProperty("shards") int shards,
            @JsonProperty("seed") long seed,
            @JsonProperty("skip_malformed") boolean skipMalformed,
            @JsonProperty("seq_len") int seqLen,
            @JsonProperty("batch_size") int batchSize,
            @JsonProperty("held_out_fraction") double heldOutFraction,
            @JsonProperty("mode") String mode,
            @JsonProperty("rank_auto") RankAuto rankAuto,
            @JsonProperty("spill_rows") Long spillRows,
            @JsonProperty("largest_keys") List<KeySize> largestKeys) {
        public Job with(RankAuto r) {
            return new Job(model, baseModelSha256, data, format, textColumn, promptColumn, completionColumn,
                    partitionBy, shards, seed, skipMalformed, seqLen, batchSize, heldOutFraction, mode, r, spillRows,
                    largestKeys);
        }

        public Job withMode(String m) {
            return new Job(model, baseModelSha256, data, format, textColumn, promptColumn, completionColumn,
                    partitionBy, shards, seed, skipMalformed, seqLen, batchSize, heldOutFraction, m, rankAuto,
                    spillRows, largestKeys);
        }
    }

    /** {@code --rank auto}'s search range and tolerance. */
    public record RankAuto(@JsonProperty("rank_min") int rankMin, @JsonProperty("rank_max") int rankMax,
                           @JsonProperty("rank_tolerance") double rankTolerance) {
    }

    /** One of the largest keys the plan reports. */
    public record KeySize(@JsonProperty("key") String key, @JsonProperty("adapter") String adapter,
                          @JsonProperty("rows") long rows, @JsonProperty("tokens") long tokens) {
    }

    /** What made an adapter: base model sha256, settings digest, data digest, and the three combined. */
    public record Fingerprint(@JsonProperty("base_model") String baseModel, @JsonProperty("settings") String settings,
                              @JsonProperty("data") String data, @JsonProperty("combined") String combined) {
    }

    /**
     * One planned adapter (or, under {@code models}, one fully fine-tuned model). A failed one has {@code path: null},
     * its {@code failure} ({@code deterministic} or {@code transient}), and no outcome fields (steps, losses,
     * seconds, sha256). A held-out loss that was not measured (no held-out windows) is {@code NaN} here and
     * {@code null} in the file; a field that does not apply is Java null and absent from the file.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"name", "key", "path", "status", "reason", "failure", "mode", "parameters", "trainable_params",
            "rank", "alpha", "targets", "rows", "rows_too_short", "steps", "final_train_loss", "final_held_out_loss",
            "base_held_out_loss", "seconds", "fingerprint", "sha256", "parent", "keys", "level", "rank_search"})
    public record Adapter(
            @JsonProperty("name") String name,
            @JsonProperty("key") @JsonInclude(JsonInclude.Include.ALWAYS) String key,
            @JsonProperty("path") @JsonInclude(JsonInclude.Include.ALWAYS) String path,
            @JsonProperty("status") String status,
            @JsonProperty("reason") String reason,
            @JsonProperty("failure") String failure,
            @JsonProperty("mode") String mode,
            @JsonProperty("parameters") Long parameters,
            @JsonProperty("trainable_params") Long trainableParams,
            @JsonProperty("rank") Integer rank,
            @JsonProperty("alpha") Double alpha,
            @JsonProperty("targets") List<String> targets,
            @JsonProperty("rows") Long rows,
            @JsonProperty("rows_too_short") Long rowsTooShort,
            @JsonProperty("steps") Integer steps,
            @JsonProperty("final_train_loss") Double finalTrainLoss,
            @JsonProperty("final_held_out_loss") @JsonSerialize(using = Documents.NanAsNull.class)
            @JsonDeserialize(using = Documents.NullAsNan.class) Double finalHeldOutLoss,
            @JsonProperty("base_held_out_loss") @JsonSerialize(using = Documents.NanAsNull.class)
            @JsonDeserialize(using = Documents.NullAsNan.class) Double baseHeldOutLoss,
            @JsonProperty("seconds") Double seconds,
            @JsonProperty("fingerprint") Fingerprint fingerprint,
            @JsonProperty("sha256") Map<String, String> sha256,
            @JsonProperty("parent") String parent,
            @JsonProperty("keys") List<String> keys,
            @JsonProperty("level") Integer level,
            @JsonProperty("rank_search") List<RankTrial> rankSearch) implements Entry {
        public Adapter {
            if (status != null && !STATUSES.contains(status)) {
                throw new IllegalArgumentException("Invalid adapter status " + status + ": must be one of "
                        + STATUSES);
            }
            targets = targets == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(
                    targets));
            keys = keys == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(keys));
            sha256 = sha256 == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(
                    sha256));
            rankSearch = rankSearch == null ? null : List.copyOf(rankSearch);
        }

        /** This entry placed in the output: its name, key, path and status (an outcome read from its files). */
        public Adapter placed(String n, String k, String p, String st, String why, String fail) {
            return new Adapter(n, k, p, st, why, fail, mode, parameters, trainableParams, rank, alpha, targets,
                    rows, rowsTooShort, steps, finalTrainLoss, finalHeldOutLoss, baseHeldOutLoss, seconds,
                    fingerprint, sha256, parent, keys, level, rankSearch);
        }

        /** This entry as a full fine-tune's: {@code mode} and its trained {@code parameters}. */
        public Adapter full(long trainedParameters) {
            return new Adapter(name, key, path, status, reason, failure, "full", trainedParameters,
                    trainableParams, rank, alpha, targets, rows, rowsTooShort, steps, finalTrainLoss,
                    finalHeldOutLoss, baseHeldOutLoss, seconds, fingerprint, sha256, parent, keys, level,
                    rankSearch);
        }

        /** This entry as a tree node's: its parent (null for a root), key values and level. */
        public Adapter node(String p, List<String> k, int l) {
            return new Adapter(name, key, path, status, reason, failure, mode, parameters, trainableParams, rank,
                    alpha, targets, rows, rowsTooShort, steps, finalTrainLoss, finalHeldOutLoss, baseHeldOutLoss,
                    seconds, fingerprint, sha256, p, k, l, rankSearch);
        }

        /** This entry with {@code --rank auto}'s trials. */
        public Adapter withRankSearch(List<RankTrial> trials) {
            return new Adapter(name, key, path, status, reason, failure, mode, parameters, trainableParams, rank,
                    alpha, targets, rows, rowsTooShort, steps, finalTrainLoss, finalHeldOutLoss, baseHeldOutLoss,
                    seconds, fingerprint, sha256, parent, keys, level, trials);
        }
    }

    /** One rank {@code --rank auto} tried: its held-out loss ({@code NaN} here, null in the file, when it failed). */
    public record RankTrial(@JsonProperty("rank") int rank,
                            @JsonProperty("held_out_loss") @JsonInclude(JsonInclude.Include.ALWAYS)
                            @JsonSerialize(using = Documents.NanAsNull.class)
                            @JsonDeserialize(using = Documents.NullAsNan.class) Double heldOutLoss,
                            @JsonProperty("seconds") double seconds) {
    }

    /** A key that got no adapter, and why. */
    public record Skipped(@JsonProperty("key") @JsonInclude(JsonInclude.Include.ALWAYS) String key,
                          @JsonProperty("reason") String reason) {
    }

    /** A tree leaf's whole path flattened into one adapter under {@code paths/<leaf>}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"name", "nodes", "path", "status", "reason", "failure", "rank", "rank_sum", "path_rank",
            "svd_max_relative_error", "fingerprint"})
    public record TreePath(
            @JsonProperty("name") String name,
            @JsonProperty("nodes") List<String> nodes,
            @JsonProperty("path") @JsonInclude(JsonInclude.Include.ALWAYS) String path,
            @JsonProperty("status") String status,
            @JsonProperty("reason") String reason,
            @JsonProperty("failure") String failure,
            @JsonProperty("rank") Integer rank,
            @JsonProperty("rank_sum") Integer rankSum,
            @JsonProperty("path_rank") Integer pathRank,
            @JsonProperty("svd_max_relative_error") Double svdMaxRelativeError,
            @JsonProperty("fingerprint") String fingerprint) implements Entry {
        public TreePath {
            if (status != null && !STATUSES.contains(status)) {
                throw new IllegalArgumentException("Invalid path status " + status + ": must be one of " + STATUSES);
            }
            nodes = nodes == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(nodes));
        }
    }

    /** The tree file a {@code train --tree} output was trained from, and its depth. */
    public record Tree(@JsonProperty("file") String file, @JsonProperty("levels") int levels) {
    }
}
