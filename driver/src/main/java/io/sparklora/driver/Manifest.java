package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code <out>/manifest.json}, written by the driver after the training stage: the job (how the data was read and
 * split, the training settings, the base model), every planned adapter (name, source key, path, status and reason,
 * rank, targets, rows, steps, final train/held-out loss, fingerprint, SHA-256 of its identity files) and every
 * skipped key with its reason, and the router's held-out accuracy ({@link RouterFit}) when one was fitted. Replaced
 * atomically (a temporary file renamed over it; a direct PUT on object stores).
 */
public final class Manifest {
    public static final String FILE = "manifest.json";
    public static final int FORMAT_VERSION = 1;

    private Manifest() {
    }

    /** A key that got no adapter, and why. */
    public record Skipped(String key, String reason) {
    }

    static ObjectNode jobJson(TrainRequest r, ModelStore.ModelInfo model, String baseSha) {
        ObjectNode o = TrainingRecord.JSON.createObjectNode();
        DataOptions d = r.data();
        o.put("model", model.uri());
        o.put("base_model_sha256", baseSha);
        o.put("data", d.path());
        o.put("format", d.format());
        o.put("text_column", d.textColumn());
        o.put("prompt_column", d.promptColumn());
        o.put("completion_column", d.completionColumn());
        o.put("partition_by", d.partitionBy());
        o.put("shards", d.shards());
        o.put("seed", d.seed());
        o.put("skip_malformed", d.skipMalformed());
        o.put("seq_len", r.template().seqLen());
        o.put("batch_size", r.template().batchSize());
        o.put("held_out_fraction", r.template().heldOutFraction());
        o.put("spill_rows", r.spillRows());
        return o;
    }

    /** The DataOptions a manifest's job was read with (for eval), with {@code partitionBy} overridden when given. */
    static DataOptions dataOptions(JsonNode job, String dataPath, String partitionBy) {
        String p = partitionBy != null ? partitionBy : text(job, "partition_by");
        int shards = partitionBy != null ? 0 : job.path("shards").asInt(0);
        return new DataOptions(dataPath != null ? dataPath : text(job, "data"), text(job, "format"),
                text(job, "text_column"), text(job, "prompt_column"), text(job, "completion_column"), p, shards,
                job.path("seed").asLong(), job.path("skip_malformed").asBoolean());
    }

    static String text(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    /**
     * What became of one planned adapter in this run: {@code trained}, {@code existing} or {@code failed}, why, and for
     * a failure whether it is {@code deterministic} (the same fingerprint fails again: a re-run reports it without
     * training) or {@code transient} (a re-run retries it).
     */
    public record Status(String status, String reason, String failure) {
        public static final String TRAINED = "trained";
        public static final String EXISTING = "existing";
        public static final String FAILED = "failed";
        public static final String DETERMINISTIC = "deterministic";
        public static final String TRANSIENT = "transient";

        public Status {
            if (!Set.of(TRAINED, EXISTING, FAILED).contains(status)) {
                throw new IllegalArgumentException("Invalid adapter status " + status);
            }
            if (status.equals(FAILED) != (failure != null)) {
                throw new IllegalArgumentException("Invalid failure " + failure + " for status " + status);
            }
        }

        static Status trained(String reason) {
            return new Status(TRAINED, reason, null);
        }

        static Status existing(String reason) {
            return new Status(EXISTING, reason, null);
        }

        static Status failed(String reason, String failure) {
            return new Status(FAILED, reason, failure);
        }

        boolean isFailed() {
            return status.equals(FAILED);
        }
    }

    /** A deterministic failure a previous run recorded: its fingerprint and reason. */
    record PreviousFailure(String fingerprint, String reason) {
    }

    /**
     * The deterministic failures recorded in {@code <out>/manifest.json}, by adapter name; empty without one, or when
     * it cannot be read (every adapter is then decided from its directory and the manifest rewritten). A manifest of a
     * later spark-lora (a newer format_version) is refused: this run would rewrite it in an older format.
     */
    static Map<String, PreviousFailure> previousFailures(FileSystem fs, String outUri) throws IOException {
        Map<String, PreviousFailure> out = new java.util.HashMap<>();
        Path file = new Path(outUri, FILE);
        JsonNode m;
        try {
            if (!fs.exists(file)) {
                return out;
            }
            m = TrainingRecord.JSON.readTree(read(fs, file));
        } catch (IOException | RuntimeException e) {
            return out;
        }
        if (io.sparklora.util.FormatVersion.newer(m, FORMAT_VERSION)) {
            throw new IOException(io.sparklora.util.FormatVersion.refusal(m, file.toString(), FORMAT_VERSION)
                    + "; train into another --out, or with that version");
        }
        for (JsonNode a : m.path("adapters")) {
            if (Status.FAILED.equals(a.path("status").asText()) && Status.DETERMINISTIC.equals(
                    a.path("failure").asText()) && a.path("fingerprint").path("combined").isTextual()) {
                out.put(a.path("name").asText(), new PreviousFailure(a.path("fingerprint").path("combined")
                        .asText(), a.path("reason").asText()));
            }
        }
        return out;
    }

    /**
     * The manifest without a router entry (rank search, which fits no router); see
     * {@link #write(AdapterStore, String, Configuration, ObjectNode, List, Map, Map, Map, List, long,
     * io.sparklora.lora.LoraConfig, JsonNode)}.
     */
    static ObjectNode write(AdapterStore store, String outUri, Configuration conf, ObjectNode job,
                            List<AdapterPlan> adapters, Map<String, Status> status,
                            Map<String, io.sparklora.job.Fingerprint> planned, Map<String, String> fromTasks,
                            List<Skipped> skipped, long malformedSkipped, io.sparklora.lora.LoraConfig lora)
            throws IOException {
        return write(store, outUri, conf, job, adapters, status, planned, fromTasks, skipped, malformedSkipped, lora,
                null);
    }

    /**
     * Builds and writes the manifest; returns it. A committed adapter's entry comes from its marker (the fingerprint
     * of what made it, which may be an older run's, and the SHA-256 hashed at commit) and its training.json: as its
     * task returned it ({@code fromTasks}, checked against one listing of {@code adapters/} for the marker), else read
     * from its files. An adapter without a marker after the stage is {@code failed} (transient: a re-run retrains it).
     */
    static ObjectNode write(AdapterStore store, String outUri, Configuration conf, ObjectNode job,
                            List<AdapterPlan> adapters, Map<String, Status> status,
                            Map<String, io.sparklora.job.Fingerprint> planned, Map<String, String> fromTasks,
                            List<Skipped> skipped, long malformedSkipped, io.sparklora.lora.LoraConfig lora,
                            JsonNode router)
            throws IOException {
        ObjectNode m = TrainingRecord.JSON.createObjectNode();
        m.put("format_version", FORMAT_VERSION);
        m.put("written_at", Instant.now().toString());
        m.set("job", job);
        m.put("malformed_rows_skipped", malformedSkipped);
        ArrayNode list = m.putArray("adapters");
        AdapterListing listing = fromTasks.isEmpty() ? null : store.list();
        for (AdapterPlan p : adapters) {
            Status st = status.get(p.name());
            ObjectNode a = list.addObject();
            a.put("name", p.name());
            a.put("key", p.key());
            ObjectNode entry = null;
            if (!st.isFailed()) {
                String text = fromTasks.get(p.name());
                entry = text != null && listing.hasMarker(p.name()) ? CommittedEntry.fromText(text)
                        : CommittedEntry.read(store, p.name());
                if (entry == null) {
                    st = Status.failed("its commit marker is missing after the stage", Status.TRANSIENT);
                }
            }
            if (st.isFailed()) {
                a.putNull("path");
                putStatus(a, st);
                a.put("rank", lora.rank());
                a.put("alpha", lora.alpha());
                a.set("targets", TrainingRecord.JSON.valueToTree(lora.targetModules()));
                a.put("rows", p.rows());
                fingerprint(a, planned.get(p.name()));
                continue;
            }
            a.put("path", "adapters/" + p.name());
            putStatus(a, st);
            a.setAll(entry);
        }
        ArrayNode sk = m.putArray("skipped");
        for (Skipped s : skipped) {
            sk.addObject().put("key", s.key()).put("reason", s.reason());
        }
        if (router != null) {
            m.set("router", router); // RouterFit: router.json and its held-out accuracy
        }
        byte[] bytes = TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        Path file = new Path(outUri, FILE);
        writeAtomically(file.getFileSystem(conf), conf, file, bytes);
        return m;
    }

    private static void putStatus(ObjectNode a, Status st) {
        a.put("status", st.status());
        a.put("reason", st.reason());
        if (st.failure() != null) {
            a.put("failure", st.failure());
        }
    }

    static void fingerprint(ObjectNode a, io.sparklora.job.Fingerprint f) {
        ObjectNode o = a.putObject("fingerprint");
        o.put("base_model", f.baseModel());
        o.put("settings", f.settings());
        o.put("data", f.data());
        o.put("combined", f.combined());
    }

    static void writeAtomically(FileSystem fs, Configuration conf, Path file, byte[] bytes) throws IOException {
        io.sparklora.storage.HadoopStorage.writeFile(fs, file, bytes);
    }

    static String sha256(byte[] bytes) {
        return io.sparklora.util.Hashing.sha256(bytes);
    }

    /** A manifest.json's content, parsed and its format_version checked, naming {@code where} when it is not ours. */
    static JsonNode parse(byte[] bytes, String where) throws IOException {
        JsonNode n;
        try {
            n = TrainingRecord.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IOException("Cannot read " + where + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        io.sparklora.util.FormatVersion.check(n, where, FORMAT_VERSION);
        return n;
    }

    static byte[] read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }
}
