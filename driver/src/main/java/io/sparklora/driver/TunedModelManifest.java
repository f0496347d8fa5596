package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.job.Fingerprint;
import io.sparklora.output.ManifestFile;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
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

    static ManifestFile write(TunedModelStore store, String outUri, Configuration conf, ManifestFile.Job job,
                              List<AdapterPlan> models, Map<String, Manifest.Status> status,
                              Map<String, Fingerprint> planned, List<ManifestFile.Skipped> skipped,
                              long malformedSkipped, long parameters) throws IOException {
        List<ManifestFile.Adapter> list = new ArrayList<>();
        FileSystem fs = store.fs();
        for (AdapterPlan p : models) {
            Manifest.Status st = status.get(p.name());
            JsonNode marker = st.isFailed() ? null : store.marker(p.name());
            Map<String, String> sha = marker == null ? null : identitySha256(fs, store.dir(p.name()));
            if (!st.isFailed() && (marker == null || !sha.equals(markerSha(marker)))) {
                st = Manifest.Status.failed(marker == null ? "its commit marker is missing after the stage"
                        : "its files differ from the SHA-256 in its commit marker", Manifest.Status.TRANSIENT);
            }
            if (st.isFailed()) {
                list.add(Manifest.failed(p, st, null, null, null, planned.get(p.name())).full(parameters));
                continue;
            }
            Path dir = store.dir(p.name());
            Path training = new Path(dir, AdapterStore.TRAINING_JSON);
            TrainingFile t = TrainingFile.read(Manifest.read(fs, training), training.toString());
            JsonNode f = marker.path("fingerprint");
            ManifestFile.Fingerprint fingerprint = new ManifestFile.Fingerprint(text(f, "base_model"),
                    text(f, "settings"), text(f, "data"), text(f, "combined"));
            list.add(CommittedEntry.outcome(t, null, null, null, fingerprint, sha).placed(p.name(), p.key(),
                    TunedModelStore.DIR + "/" + p.name(), st.status(), st.reason(), null).full(parameters));
        }
        ManifestFile m = new ManifestFile(Manifest.FORMAT_VERSION, Instant.now().toString(), job, malformedSkipped,
                List.of(), list, skipped, null, null, null);
        Manifest.writeFile(conf, outUri, m);
        return m;
    }

    private static String text(JsonNode o, String field) {
        return o.path(field).isTextual() ? o.path(field).asText() : null;
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
