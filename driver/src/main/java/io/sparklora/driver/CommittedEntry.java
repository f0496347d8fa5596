package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.fs.Path;

/**
 * The part of a committed adapter's manifest entry that its files decide: rank, alpha, targets, rows, steps, final
 * losses, seconds and trainable parameters from its training.json, the fingerprint and the SHA-256 of its identity
 * files from its commit marker (hashed once, at commit, from the bytes written). The task that commits an adapter
 * reads it back and returns it with its outcome, so the driver writes the manifest of thousands of adapters without a
 * read per adapter; an adapter committed by an earlier run is read by the driver with the same method.
 */
final class CommittedEntry {
    private CommittedEntry() {
    }

    /** The entry of a committed adapter, or null when it has no marker that parses. */
    static ObjectNode read(AdapterStore store, String name) throws IOException {
        AdapterStore.Marker marker = store.marker(name);
        if (marker == null) {
            return null;
        }
        Path file = new Path(store.dir(name), AdapterStore.TRAINING_JSON);
        JsonNode t;
        try (InputStream in = store.fs().open(file)) {
            t = TrainingRecord.read(in.readAllBytes(), file.toString());
        }
        ObjectNode a = TrainingRecord.JSON.createObjectNode();
        a.set("rank", t.path("lora").path("rank"));
        a.set("alpha", t.path("lora").path("alpha"));
        a.set("targets", t.path("lora").path("target_modules"));
        putOutcome(a, t);
        Manifest.fingerprint(a, marker.fingerprint());
        ObjectNode files = a.putObject("sha256");
        marker.sha256().forEach(files::put);
        return a;
    }

    /** Rows, steps, final losses, seconds and trainable parameters of a training record, as the manifest lists them. */
    static void putOutcome(ObjectNode a, JsonNode t) {
        a.set("rows", t.path("data").path("rows"));
        a.set("rows_too_short", t.path("data").path("rows_too_short"));
        a.set("steps", t.path("steps"));
        a.set("final_train_loss", t.path("final_train_loss"));
        a.set("final_held_out_loss", t.path("final_held_out_loss"));
        a.set("base_held_out_loss", t.path("base_held_out_loss"));
        a.set("seconds", t.path("timings").path("total_seconds"));
        if (t.has("trainable_params")) { // records written before it was recorded have none
            a.set("trainable_params", t.path("trainable_params"));
        }
    }

    /** The entry as the text a task returns. */
    static String toText(ObjectNode entry) throws IOException {
        return entry == null ? null : TrainingRecord.JSON.writeValueAsString(entry);
    }

    static ObjectNode fromText(String text) throws IOException {
        return (ObjectNode) TrainingRecord.JSON.readTree(text);
    }
}
