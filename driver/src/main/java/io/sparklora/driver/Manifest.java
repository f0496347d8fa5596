package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * {@code <out>/manifest.json}, written by the driver after every adapter is committed: the job (how the data was read
 * and split, the training settings, the base model), every adapter (name, source key, path, rank, targets, rows,
 * steps, final train/held-out loss, SHA-256 of each file, whether this run trained it) and every skipped key with its
 * reason. Replaced atomically (a temporary file renamed over it; a direct PUT on object stores).
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

    /** Builds and writes the manifest; returns it. */
    static ObjectNode write(AdapterStore store, String outUri, Configuration conf, ObjectNode job,
                            List<AdapterPlan> adapters, Map<String, String> status, List<Skipped> skipped,
                            long malformedSkipped) throws IOException {
        ObjectNode m = TrainingRecord.JSON.createObjectNode();
        m.put("format_version", FORMAT_VERSION);
        m.put("written_at", Instant.now().toString());
        m.set("job", job);
        m.put("malformed_rows_skipped", malformedSkipped);
        ArrayNode list = m.putArray("adapters");
        FileSystem fs = store.fs();
        for (AdapterPlan p : adapters) {
            Path dir = store.dir(p.name());
            JsonNode t = TrainingRecord.read(read(fs, new Path(dir, AdapterStore.TRAINING_JSON)),
                    new Path(dir, AdapterStore.TRAINING_JSON).toString());
            ObjectNode a = list.addObject();
            a.put("name", p.name());
            a.put("key", p.key());
            a.put("path", "adapters/" + p.name());
            a.put("status", status.getOrDefault(p.name(), "existing"));
            a.set("rank", t.path("lora").path("rank"));
            a.set("alpha", t.path("lora").path("alpha"));
            a.set("targets", t.path("lora").path("target_modules"));
            a.set("rows", t.path("data").path("rows"));
            a.set("rows_too_short", t.path("data").path("rows_too_short"));
            a.set("steps", t.path("steps"));
            a.set("final_train_loss", t.path("final_train_loss"));
            a.set("final_held_out_loss", t.path("final_held_out_loss"));
            a.set("base_held_out_loss", t.path("base_held_out_loss"));
            a.set("seconds", t.path("timings").path("total_seconds"));
            ObjectNode files = a.putObject("sha256");
            List<FileStatus> sorted = new ArrayList<>(List.of(fs.listStatus(dir)));
            sorted.sort((x, y) -> x.getPath().getName().compareTo(y.getPath().getName()));
            for (FileStatus f : sorted) {
                if (f.isFile()) {
                    files.put(f.getPath().getName(), sha256(read(fs, f.getPath())));
                }
            }
        }
        ArrayNode sk = m.putArray("skipped");
        for (Skipped s : skipped) {
            sk.addObject().put("key", s.key()).put("reason", s.reason());
        }
        byte[] bytes = TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        writeAtomically(fs, conf, new Path(outUri, FILE), bytes);
        return m;
    }

    static void writeAtomically(FileSystem fs, Configuration conf, Path file, byte[] bytes) throws IOException {
        if (Set.of("s3a", "s3", "gs").contains(fs.getScheme())) {
            try (OutputStream out = fs.create(file, true)) { // one PUT: atomic on object stores
                out.write(bytes);
            }
            return;
        }
        Path tmp = new Path(file.getParent(), "_" + file.getName() + ".tmp-" + java.util.UUID.randomUUID());
        try (OutputStream out = fs.create(tmp, false)) {
            out.write(bytes);
        }
        FileContext.getFileContext(file.toUri(), conf).rename(tmp, file, Options.Rename.OVERWRITE);
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static byte[] read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }
}
