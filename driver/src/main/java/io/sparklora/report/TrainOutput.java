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
 *
 * <p>A {@code train --full} output's manifest lists its fine-tuned models under {@code models} (paths
 * {@code models/<name>}, each entry with its {@code parameters}) and no adapters; its entries are read the same way,
 * and {@link #entries} says which list they came from.
 *
 * <p>A {@code train --rank auto} output's entries carry {@code rank_search} (read into {@link #rankSearches}); a
 * {@code sweep} output has {@code plane.json} (read into {@link #plane}) and no manifest of its own, and reads as an
 * output with no adapters.
 *
 * @param dir          the output directory
 * @param adapters     the adapters in manifest order
 * @param records      adapter name → its training.json
 * @param rankSearches the rank searches of the manifest's entries, in manifest order (failed ones included)
 * @param plane        the sweep's plane, or null for an output without {@code plane.json}
 * @param entries      what {@code adapters} are: LoRA adapters or ({@code train --full}) fine-tuned models
 */
public record TrainOutput(Path dir, List<AdapterSummary> adapters, Map<String, Path> records,
                          List<RankSearchSection.Search> rankSearches, PlaneSection plane, Entries entries) {
    public static final String MANIFEST = "manifest.json";
    public static final String TRAINING_RECORD = "training.json";
    /** The file {@code sweep} writes ({@link io.sparklora.driver.Plane#FILE}). */
    public static final String PLANE = io.sparklora.driver.Plane.FILE;

    /** The manifest list a report's entries come from, with the words the page uses for them. */
    public enum Entries {
        ADAPTERS("adapters", "Adapters", "adapter"),
        MODELS("models", "Fine-tuned models", "model");

        private final String field;
        private final String heading;
        private final String noun;

        Entries(String field, String heading, String noun) {
            this.field = field;
            this.heading = heading;
            this.noun = noun;
        }

        /** The manifest's field that lists them; an entry without a path is under {@code <field>/<name>}. */
        public String field() {
            return field;
        }

        String heading() {
            return heading;
        }

        String noun() {
            return noun;
        }

        /** MODELS when the manifest has a {@code models} list ({@code train --full}), else ADAPTERS. */
        public static Entries of(JsonNode manifest) {
            return manifest.path(MODELS.field).isArray() ? MODELS : ADAPTERS;
        }
    }

    public TrainOutput {
        java.util.Objects.requireNonNull(entries, "entries");
        adapters = List.copyOf(adapters);
        records = Map.copyOf(records);
        rankSearches = List.copyOf(rankSearches);
    }

    /** The same adapters, those named with the loss histories of their training records. */
    public TrainOutput withHistoriesOf(Collection<String> names) throws IOException {
        List<AdapterSummary> out = new ArrayList<>(adapters.size());
        for (AdapterSummary a : adapters) {
            if (names.contains(a.name()) && a.trainHistory().isEmpty() && a.heldOutHistory().isEmpty()) {
                TrainingHistory record = TrainingHistory.read(records.get(a.name()));
                a = new AdapterSummary(a.name(), a.sourceKey(), a.rows(), a.steps(), a.trainLoss(), a.heldOutLoss(),
                        a.baseHeldOutLoss(), a.seconds(), a.parameters(), record.trainHistory(),
                        record.heldOutHistory());
            }
            out.add(a);
        }
        return new TrainOutput(dir, out, records, rankSearches, plane, entries);
    }

    /**
     * Reads the manifest of {@code dir} and the training record of every adapter it lists, and {@code plane.json}
     * when there is one (then the manifest may be absent).
     */
    public static TrainOutput read(Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        PlaneSection plane = java.nio.file.Files.exists(root.resolve(PLANE)) ? PlaneSection.read(root.resolve(PLANE))
                : null;
        if (plane != null && !java.nio.file.Files.exists(root.resolve(MANIFEST))) {
            return new TrainOutput(root, List.of(), Map.of(), List.of(), plane, Entries.ADAPTERS);
        }
        JsonFields manifest = JsonFields.readObject(root.resolve(MANIFEST), "manifest");
        manifest.checkFormatVersion(1);
        JsonNode list = manifest.array("adapters");
        if (list == null) {
            throw manifest.bad("adapters", "is missing");
        }
        Entries entries = manifest.array(Entries.MODELS.field()) != null ? Entries.MODELS : Entries.ADAPTERS;
        list = manifest.array(entries.field());
        String field = entries.field();
        List<AdapterSummary> adapters = new ArrayList<>();
        Map<String, Path> records = new HashMap<>();
        Set<String> names = new HashSet<>();
        List<RankSearchSection.Search> rankSearches = new ArrayList<>();
        boolean manifestOnly = list.size() > ReportWriter.CURVES_FOR_ALL;
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isObject()) {
                throw manifest.bad(field + "[" + i + "]", "is not an object");
            }
            JsonFields entry = new JsonFields(list.get(i), manifest.source());
            String name = entry.text("name");
            if (name == null || name.isEmpty()) {
                throw manifest.bad(field + "[" + i + "].name", "is missing");
            }
            RankSearchSection.Search search = RankSearchSection.read(entry, field + "[" + i + "]", name);
            if (search != null) {
                rankSearches.add(search);
            }
            if ("failed".equals(list.get(i).path("status").asText())) {
                continue; // a failed adapter has no files: the manifest holds its reason
            }
            if (!names.add(name)) {
                throw manifest.bad(field + "[" + i + "].name", "repeats " + entries.noun() + " \"" + name + "\"");
            }
            String rel = entry.text("path");
            Path adapterDir = root.resolve(rel != null ? rel : field + "/" + name).normalize();
            if (!adapterDir.startsWith(root) || adapterDir.equals(root)) {
                throw manifest.bad(field + "[" + i + "].path", "\"" + rel + "\" is outside the output directory");
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
                    entry.count("parameters", "trainable_params"), record.trainHistory(), record.heldOutHistory()));
        }
        return new TrainOutput(root, adapters, records, rankSearches, plane, entries);
    }

    private static long firstKnown(long manifest, long record) {
        return manifest >= 0 ? manifest : record;
    }

    private static double firstKnown(double manifest, double record) {
        return !Double.isNaN(manifest) ? manifest : record;
    }
}
