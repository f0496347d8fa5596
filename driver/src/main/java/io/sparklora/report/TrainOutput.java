package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The adapters of a {@code train} output directory, as a report shows them: {@code manifest.json} lists them, and
 * each one's {@code training.json} (beside its PEFT files) holds its loss history. Past
 * {@link ReportWriter#CURVES_FOR_ALL} adapters only the manifest is read (its entries hold the final losses), and the
 * histories of the few adapters a report draws are read with {@link #withHistoriesOf}.
 *
 * <p>Manifest shape read: {@code {"adapters": [{"name": "de", "key": "de", "path": "adapters/de", "rows": 1200,
 * "steps": 200, "final_train_loss": 1.2, "final_held_out_loss": 1.4, ...}, ...]}}. A missing {@code path} means
 * {@code adapters/<name>}; a path that leaves the output directory is refused.
 *
 * @param dir      the output directory
 * @param adapters the adapters in manifest order
 * @param records  adapter name → its training.json
 */
public record TrainOutput(Path dir, List<AdapterSummary> adapters, Map<String, Path> records) {
    public static final String MANIFEST = "manifest.json";
    public static final String TRAINING_RECORD = "training.json";

    public TrainOutput {
        adapters = List.copyOf(adapters);
        records = Map.copyOf(records);
    }

    /** The same adapters, those named with the loss histories of their training records. */
    public TrainOutput withHistoriesOf(Collection<String> names) throws IOException {
        List<AdapterSummary> out = new ArrayList<>(adapters.size());
        for (AdapterSummary a : adapters) {
            if (names.contains(a.name()) && a.trainHistory().isEmpty() && a.heldOutHistory().isEmpty()) {
                TrainingHistory record = TrainingHistory.read(records.get(a.name()));
                a = new AdapterSummary(a.name(), a.sourceKey(), a.rows(), a.steps(), a.trainLoss(), a.heldOutLoss(),
                        a.baseHeldOutLoss(), a.seconds(), record.trainHistory(), record.heldOutHistory());
            }
            out.add(a);
        }
        return new TrainOutput(dir, out, records);
    }

    /** Reads the manifest of {@code dir} and the training record of every adapter it lists. */
    public static TrainOutput read(Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        JsonFields manifest = JsonFields.readObject(root.resolve(MANIFEST), "manifest");
        manifest.checkFormatVersion(1);
        JsonNode list = manifest.array("adapters");
        if (list == null) {
            throw manifest.bad("adapters", "is missing");
        }
        List<AdapterSummary> adapters = new ArrayList<>();
        Map<String, Path> records = new HashMap<>();
        Set<String> names = new HashSet<>();
        boolean manifestOnly = list.size() > ReportWriter.CURVES_FOR_ALL;
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isObject()) {
                throw manifest.bad("adapters[" + i + "]", "is not an object");
            }
            if ("failed".equals(list.get(i).path("status").asText())) {
                continue; // a failed adapter has no files: the manifest holds its reason
            }
            JsonFields entry = new JsonFields(list.get(i), manifest.source());
            String name = entry.text("name");
            if (name == null || name.isEmpty()) {
                throw manifest.bad("adapters[" + i + "].name", "is missing");
            }
            if (!names.add(name)) {
                throw manifest.bad("adapters[" + i + "].name", "repeats adapter \"" + name + "\"");
            }
            String rel = entry.text("path");
            Path adapterDir = root.resolve(rel != null ? rel : "adapters/" + name).normalize();
            if (!adapterDir.startsWith(root) || adapterDir.equals(root)) {
                throw manifest.bad("adapters[" + i + "].path", "\"" + rel + "\" is outside the output directory");
            }
            records.put(name, adapterDir.resolve(TRAINING_RECORD));
            TrainingHistory record = manifestOnly ? TrainingHistory.UNKNOWN
                    : TrainingHistory.read(adapterDir.resolve(TRAINING_RECORD));
            adapters.add(new AdapterSummary(name, entry.text("key", "source_key", "sourceKey"),
                    firstKnown(entry.count("rows", "train_rows", "trainRows"), record.rows()),
                    firstKnown(entry.count("steps"), record.steps()),
                    firstKnown(entry.number("final_train_loss", "finalTrainLoss"), record.finalTrainLoss()),
                    firstKnown(entry.number("final_held_out_loss", "finalHeldOutLoss"), record.finalHeldOutLoss()),
                    firstKnown(entry.number("base_held_out_loss", "baseHeldOutLoss"), record.baseHeldOutLoss()),
                    firstKnown(entry.number("seconds", "total_seconds", "totalSeconds"), record.totalSeconds()),
                    record.trainHistory(), record.heldOutHistory()));
        }
        return new TrainOutput(root, adapters, records);
    }

    private static long firstKnown(long manifest, long record) {
        return manifest >= 0 ? manifest : record;
    }

    private static double firstKnown(double manifest, double record) {
        return !Double.isNaN(manifest) ? manifest : record;
    }
}
