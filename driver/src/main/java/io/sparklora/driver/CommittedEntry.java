package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.output.Documents;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * The part of a committed adapter's manifest entry that its files decide: rank, alpha, targets, rows, steps, final
 * losses and seconds from its training.json, the fingerprint and the SHA-256 of its identity files from its commit
 * marker (hashed once, at commit, from the bytes written). The task that commits an adapter reads it back and returns
 * it with its outcome, so the driver writes the manifest of thousands of adapters without a read per adapter; an
 * adapter committed by an earlier run is read by the driver with the same method.
 */
final class CommittedEntry {
    private CommittedEntry() {
    }

    /** The entry of a committed adapter (name, key, path and status still to place), or null without a marker. */
    static ManifestFile.Adapter read(AdapterStore store, String name) throws IOException {
        AdapterStore.Marker marker = store.marker(name);
        if (marker == null) {
            return null;
        }
        Path file = new Path(store.dir(name), AdapterStore.TRAINING_JSON);
        JsonNode t;
        try (InputStream in = store.fs().open(file)) {
            t = TrainingRecord.read(in.readAllBytes(), file.toString());
        }
        JsonNode lora = t.path("lora");
        List<String> targets = null;
        if (lora.path("target_modules").isArray()) {
            targets = new ArrayList<>();
            for (JsonNode m : lora.path("target_modules")) {
                targets.add(m.asText());
            }
        }
        return outcome(t, lora.path("rank").isNumber() ? lora.path("rank").intValue() : null,
                lora.path("alpha").isNumber() ? lora.path("alpha").doubleValue() : null, targets,
                Manifest.fingerprint(marker.fingerprint()), marker.sha256());
    }

    /** Rows, steps, final losses and seconds of a training record, as the manifest lists them. */
    static ManifestFile.Adapter outcome(JsonNode t, Integer rank, Double alpha, List<String> targets,
                                        ManifestFile.Fingerprint fingerprint, Map<String, String> sha256) {
        return new ManifestFile.Adapter(null, null, null, null, null, null, null, null, rank, alpha, targets,
                number(t.path("data").path("rows")) == null ? null : t.path("data").path("rows").longValue(),
                number(t.path("data").path("rows_too_short")) == null ? null
                        : t.path("data").path("rows_too_short").longValue(),
                number(t.path("steps")) == null ? null : t.path("steps").intValue(),
                number(t.path("final_train_loss")), loss(t.path("final_held_out_loss")),
                loss(t.path("base_held_out_loss")), number(t.path("timings").path("total_seconds")), fingerprint,
                sha256, null, null, null, null);
    }

    private static Double number(JsonNode n) {
        return n.isNumber() ? n.doubleValue() : null;
    }

    /** A held-out loss: null in training.json (not measured) is NaN; absent stays absent. */
    private static Double loss(JsonNode n) {
        return n.isNumber() ? Double.valueOf(n.doubleValue()) : n.isNull() ? Double.valueOf(Double.NaN) : null;
    }

    /** The entry as the text a task returns. */
    static String toText(ManifestFile.Adapter entry) throws IOException {
        return entry == null ? null : Documents.toText(entry);
    }

    static ManifestFile.Adapter fromText(String text) throws IOException {
        return Documents.fromText(text, ManifestFile.Adapter.class);
    }
}
