package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
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
    public static final String FILE = ManifestFile.FILE;
    public static final int FORMAT_VERSION = ManifestFile.FORMAT_VERSION;

    private Manifest() {
    }

    static ManifestFile.Job jobJson(TrainRequest r, ModelStore.ModelInfo model, String baseSha,
                                    TrainPlanner.Plan plan) {
        DataOptions d = r.data();
        return new ManifestFile.Job(model.uri(), baseSha, d.path(), d.format(), d.textColumn(), d.promptColumn(),
                d.completionColumn(), d.partitionBy(), d.shards(), d.seed(), d.skipMalformed(),
                r.template().seqLen(), r.template().batchSize(), r.template().heldOutFraction(), null, null,
                r.spillRows(), PlanLine.manifestKeys(plan.largest()));
    }

    /** The DataOptions a manifest's job was read with (for eval), with {@code partitionBy} overridden when given. */
    static DataOptions dataOptions(ManifestFile.Job job, String dataPath, String partitionBy) {
        String p = partitionBy != null ? partitionBy : job.partitionBy();
        int shards = partitionBy != null ? 0 : job.shards();
        return new DataOptions(dataPath != null ? dataPath : job.data(), job.format(), job.textColumn(),
                job.promptColumn(), job.completionColumn(), p, shards, job.seed(), job.skipMalformed());
    }

    /**
     * What became of one planned adapter in this run: {@code trained}, {@code existing} or {@code failed}, why, and for
     * a failure whether it is {@code deterministic} (the same fingerprint fails again: a re-run reports it without
     * training) or {@code transient} (a re-run retries it).
     */
    public record Status(String status, String reason, String failure) {
        public static final String TRAINED = ManifestFile.TRAINED;
        public static final String EXISTING = ManifestFile.EXISTING;
        public static final String FAILED = ManifestFile.FAILED;
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
     * The deterministic failures recorded in {@code <out>/manifest.json}, by adapter name; empty without one. A
     * manifest this spark-lora cannot read — not JSON, no format_version, fields of the wrong type, or a later
     * spark-lora's (a newer format_version: this run would rewrite it in an older format) — is refused naming the
     * file, before anything trains: it was not written by this spark-lora, and rewriting it would lose what it says.
     */
    static Map<String, PreviousFailure> previousFailures(FileSystem fs, String outUri) throws IOException {
        Map<String, PreviousFailure> out = new java.util.HashMap<>();
        Path file = new Path(outUri, FILE);
        if (!fs.exists(file)) {
            return out;
        }
        byte[] bytes = read(fs, file);
        ManifestFile m;
        try {
            m = ManifestFile.read(bytes, file.toString());
        } catch (IOException e) {
            boolean newer = false;
            try {
                newer = io.sparklora.util.FormatVersion.newer(io.sparklora.util.StrictJson.MAPPER.readTree(bytes),
                        FORMAT_VERSION);
            } catch (IOException | RuntimeException notJson) {
                // not JSON: not a later version's either
            }
            throw new IOException(e.getMessage() + (newer ? "; train into another --out, or with that version"
                    : "; train into another --out, or move it away (the adapters are then decided from their own "
                    + "directories)"), e);
        }
        for (ManifestFile.Adapter a : m.adapters()) {
            if (a.isFailed() && Status.DETERMINISTIC.equals(a.failure()) && a.fingerprint() != null
                    && a.fingerprint().combined() != null && a.name() != null) {
                out.put(a.name(), new PreviousFailure(a.fingerprint().combined(), a.reason()));
            }
        }
        return out;
    }

    /**
     * The manifest without a router entry (rank search, which fits no router); see
     * {@link #write(AdapterStore, String, Configuration, ManifestFile.Job, List, Map, Map, Map, List, long,
     * io.sparklora.lora.LoraConfig, JsonNode)}.
     */
    static ManifestFile write(AdapterStore store, String outUri, Configuration conf, ManifestFile.Job job,
                              List<AdapterPlan> adapters, Map<String, Status> status,
                              Map<String, io.sparklora.job.Fingerprint> planned, Map<String, String> fromTasks,
                              List<ManifestFile.Skipped> skipped, long malformedSkipped,
                              io.sparklora.lora.LoraConfig lora) throws IOException {
        return write(store, outUri, conf, job, adapters, status, planned, fromTasks, skipped, malformedSkipped, lora,
                null);
    }

    /**
     * Builds and writes the manifest; returns it. A committed adapter's entry comes from its marker (the fingerprint
     * of what made it, which may be an older run's, and the SHA-256 hashed at commit) and its training.json: as its
     * task returned it ({@code fromTasks}, checked against one listing of {@code adapters/} for the marker), else read
     * from its files. An adapter without a marker after the stage is {@code failed} (transient: a re-run retrains it).
     */
    static ManifestFile write(AdapterStore store, String outUri, Configuration conf, ManifestFile.Job job,
                              List<AdapterPlan> adapters, Map<String, Status> status,
                              Map<String, io.sparklora.job.Fingerprint> planned, Map<String, String> fromTasks,
                              List<ManifestFile.Skipped> skipped, long malformedSkipped,
                              io.sparklora.lora.LoraConfig lora, JsonNode router) throws IOException {
        List<ManifestFile.Adapter> list = new ArrayList<>();
        AdapterListing listing = fromTasks.isEmpty() ? null : store.list();
        for (AdapterPlan p : adapters) {
            Status st = status.get(p.name());
            ManifestFile.Adapter entry = null;
            if (!st.isFailed()) {
                String text = fromTasks.get(p.name());
                entry = text != null && listing.hasMarker(p.name()) ? CommittedEntry.fromText(text)
                        : CommittedEntry.read(store, p.name());
                if (entry == null) {
                    st = Status.failed("its commit marker is missing after the stage", Status.TRANSIENT);
                }
            }
            if (st.isFailed()) {
                list.add(failed(p, st, lora.rank(), lora.alpha(), lora.targetModules(), planned.get(p.name())));
                continue;
            }
            list.add(entry.placed(p.name(), p.key(), "adapters/" + p.name(), st.status(), st.reason(), null));
        }
        ManifestFile m = new ManifestFile(FORMAT_VERSION, Instant.now().toString(), job, malformedSkipped, list, null,
                skipped, router, null, null); // router: RouterFit's router.json summary and its held-out accuracy
        writeFile(conf, outUri, m);
        return m;
    }

    /** The entry of a failed adapter: no path, its failure, what it would have been trained with. */
    static ManifestFile.Adapter failed(AdapterPlan p, Status st, Integer rank, Double alpha, List<String> targets,
                                       io.sparklora.job.Fingerprint planned) {
        return new ManifestFile.Adapter(p.name(), p.key(), null, st.status(), st.reason(), st.failure(), null, null,
                null, rank, alpha, targets, p.rows(), null, null, null, null, null, null, fingerprint(planned), null, null,
                null, null, null);
    }

    /** Writes {@code m} as {@code <outUri>/manifest.json}, atomically. */
    static void writeFile(Configuration conf, String outUri, ManifestFile m) throws IOException {
        Path file = new Path(outUri, FILE);
        writeAtomically(file.getFileSystem(conf), conf, file, m.toJson());
    }

    static ManifestFile.Fingerprint fingerprint(io.sparklora.job.Fingerprint f) {
        return new ManifestFile.Fingerprint(f.baseModel(), f.settings(), f.data(), f.combined());
    }

    static void writeAtomically(FileSystem fs, Configuration conf, Path file, byte[] bytes) throws IOException {
        io.sparklora.storage.HadoopStorage.writeFile(fs, file, bytes);
    }

    static String sha256(byte[] bytes) {
        return io.sparklora.util.Hashing.sha256(bytes);
    }

    /** A manifest.json's content, parsed and its format_version checked, naming {@code where} when it is not ours. */
    static ManifestFile parse(byte[] bytes, String where) throws IOException {
        return ManifestFile.read(bytes, where);
    }

    static byte[] read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }
}
