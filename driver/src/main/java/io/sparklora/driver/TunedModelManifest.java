package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.Fingerprint;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code manifest.json} of a {@code train --full} output: the job, and under {@code models} every planned model with
 * the fields an adapter entry has (name, key, path, status, reason, rows, steps, losses, seconds, fingerprint,
 * SHA-256 of config.json and model.safetensors, checked against the commit marker) plus {@code parameters};
 * {@code adapters} is empty. Written as {@link Manifest} writes its own (atomically).
 */
final class TunedModelManifest {
    private TunedModelManifest() {
    }

    static ObjectNode write(TunedModelStore store, String outUri, Configuration conf, ObjectNode job,
                            List<AdapterPlan> models, Map<String, Manifest.Status> status,
                            Map<String, Fingerprint> planned, List<Manifest.Skipped> skipped, long malformedSkipped,
                            long parameters) throws IOException {
        ObjectNode m = TrainingRecord.JSON.createObjectNode();
        m.put("format_version", Manifest.FORMAT_VERSION);
        m.put("written_at", Instant.now().toString());
        m.set("job", job);
        m.put("malformed_rows_skipped", malformedSkipped);
        m.putArray("adapters");
        ArrayNode list = m.putArray("models");
        FileSystem fs = store.fs();
        for (AdapterPlan p : models) {
            Manifest.Status st = status.get(p.name());
            ObjectNode a = list.addObject();
            a.put("name", p.name());
            a.put("key", p.key());
            JsonNode marker = st.isFailed() ? null : store.marker(p.name());
            Map<String, String> sha = marker == null ? null : identitySha256(fs, store.dir(p.name()));
            if (!st.isFailed() && (marker == null || !sha.equals(markerSha(marker)))) {
                st = Manifest.Status.failed(marker == null ? "its commit marker is missing after the stage"
                        : "its files differ from the SHA-256 in its commit marker", Manifest.Status.TRANSIENT);
            }
            a.put("status", st.status());
            a.put("reason", st.reason());
            if (st.failure() != null) {
                a.put("failure", st.failure());
            }
            a.put("mode", "full");
            a.put("parameters", parameters);
            if (st.isFailed()) {
                a.putNull("path");
                a.put("rows", p.rows());
                Manifest.fingerprint(a, planned.get(p.name()));
                continue;
            }
            Path dir = store.dir(p.name());
            Path training = new Path(dir, AdapterStore.TRAINING_JSON);
            JsonNode t = TrainingRecord.read(Manifest.read(fs, training), training.toString());
            a.put("path", TunedModelStore.DIR + "/" + p.name());
            CommittedEntry.putOutcome(a, t);
            a.set("fingerprint", marker.path("fingerprint"));
            ObjectNode files = a.putObject("sha256");
            sha.forEach(files::put);
        }
        ArrayNode sk = m.putArray("skipped");
        for (Manifest.Skipped s : skipped) {
            sk.addObject().put("key", s.key()).put("reason", s.reason());
        }
        byte[] bytes = TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        Manifest.writeAtomically(fs, conf, new Path(outUri, Manifest.FILE), bytes);
        return m;
    }

    private static Map<String, String> markerSha(JsonNode marker) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : TunedModelStore.IDENTITY_FILES) {
            out.put(f, marker.path("sha256").path(f).asText());
        }
        return out;
    }

    private static Map<String, String> identitySha256(FileSystem fs, Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : TunedModelStore.IDENTITY_FILES) {
            Path p = new Path(dir, f);
            out.put(f, fs.exists(p) ? Manifest.sha256(Manifest.read(fs, p)) : "missing");
        }
        return out;
    }
}
