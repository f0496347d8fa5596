package io.sparklora.driver;

import io.sparklora.output.Documents;
import io.sparklora.output.ManifestFile;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
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

    /** The entry of a committed adapter (name, key, path and status still to place), or null without a marker. */
    static ManifestFile.Adapter read(AdapterStore store, String name) throws IOException {
        AdapterStore.Marker marker = store.marker(name);
        if (marker == null) {
            return null;
        }
        Path file = new Path(store.dir(name), AdapterStore.TRAINING_JSON);
        TrainingFile t;
        try (InputStream in = store.fs().open(file)) {
            t = TrainingFile.read(in.readAllBytes(), file.toString());
        }
        return outcome(t, t.lora() == null ? null : t.lora().rank(), t.lora() == null ? null : t.lora().alpha(),
                t.targets(), Manifest.fingerprint(marker.fingerprint()), marker.sha256());
    }

    /**
     * Rows, steps, final losses, seconds and trainable parameters of a training record, as the manifest lists them
     * (a record written before trainable_params was recorded has none).
     */
    static ManifestFile.Adapter outcome(TrainingFile t, Integer rank, Double alpha, List<String> targets,
                                        ManifestFile.Fingerprint fingerprint, Map<String, String> sha256) {
        TrainingFile.Data d = t.data();
        return new ManifestFile.Adapter(null, null, null, null, null, null, null, null, t.trainableParams(), rank,
                alpha, targets, d == null ? null : d.rows(), d == null ? null : d.rowsTooShort(),
                t.steps(), t.finalTrainLoss() == null || t.finalTrainLoss().isNaN() ? null : t.finalTrainLoss(),
                t.finalHeldOutLoss(), t.baseHeldOutLoss(), t.totalSeconds(), fingerprint, sha256, null, null, null,
                null);
    }

    /** The entry as the text a task returns. */
    static String toText(ManifestFile.Adapter entry) throws IOException {
        return entry == null ? null : Documents.toText(entry);
    }

    static ManifestFile.Adapter fromText(String text) throws IOException {
        return Documents.fromText(text, ManifestFile.Adapter.class);
    }
}
