package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.nio.file.Files;
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
 * <p>The manifest is read by its one reader, {@link ManifestFile#read}, and each training record by
 * {@link io.sparklora.output.TrainingFile#read} (through {@link TrainingHistory}): one not JSON, without a
 * format_version, of a newer one, or with a field of the wrong type is refused naming the file, as eval, serve and
 * {@code train} refuse it. On top of the types a report checks: every entry has a name, a name is not repeated, and
 * a {@code path} stays inside the output directory (a missing one means {@code adapters/<name>}).
 *
 * <p>A {@code train --full} output's manifest lists its fine-tuned models under {@code models} (paths
 * {@code models/<name>}, each entry with its {@code parameters}) and no adapters; its entries are read the same way,
 * and {@link #entries} says which list they came from.
 *
 * <p>A {@code train --rank auto} output's entries carry {@code rank_search} (read into {@link #rankSearches}); a
 * {@code sweep} output has {@code plane.json} (read into {@link #plane}) and no manifest of its own, and reads as an
 * output with no adapters.
 *
 * @param dir          the output directory (local: the output itself, or where a remote one was staged)
 * @param location     the output as messages name it: {@code dir}, or the URI a staged output came from
 * @param adapters     the adapters in manifest order
 * @param records      adapter name → its training.json
 * @param rankSearches the rank searches of the manifest's entries, in manifest order (failed ones included)
 * @param plane        the sweep's plane, or null for an output without {@code plane.json}
 * @param entries      what {@code adapters} are: LoRA adapters or ({@code train --full}) fine-tuned models
 * @param router       the manifest's {@code router} entry (no typed record: {@link RoutingSection} shows it), or
 *                     null without one
 */
public record TrainOutput(Path dir, String location, List<AdapterSummary> adapters, Map<String, Path> records,
                          List<RankSearchSection.Search> rankSearches, PlaneSection plane, Entries entries,
                          JsonNode router) {
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
        public static Entries of(ManifestFile manifest) {
            return manifest.models() != null ? MODELS : ADAPTERS;
        }

        List<ManifestFile.Adapter> in(ManifestFile manifest) {
            return this == MODELS ? manifest.models() : manifest.adapters();
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
                Path file = records.get(a.name());
                TrainingHistory record = TrainingHistory.read(file, named(dir, location, file));
                a = new AdapterSummary(a.name(), a.sourceKey(), a.rows(), a.steps(), a.trainLoss(), a.heldOutLoss(),
                        a.baseHeldOutLoss(), a.seconds(), a.parameters(), record.trainHistory(),
                        record.heldOutHistory());
            }
            out.add(a);
        }
        return new TrainOutput(dir, location, out, records, rankSearches, plane, entries, router);
    }

    /**
     * Reads the manifest of {@code dir} and the training record of every adapter it lists, and {@code plane.json}
     * when there is one (then the manifest may be absent).
     */
    public static TrainOutput read(Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        return read(root, root.toString());
    }

    /** {@link #read(Path)} of an output staged in {@code dir} from {@code location}, which messages name. */
    static TrainOutput read(Path dir, String location) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        PlaneSection plane = Files.exists(root.resolve(PLANE)) ? PlaneSection.read(root.resolve(PLANE)) : null;
        if (plane != null && !Files.exists(root.resolve(MANIFEST))) {
            return new TrainOutput(root, location, List.of(), Map.of(), List.of(), plane, Entries.ADAPTERS, null);
        }
        Path file = root.resolve(MANIFEST);
        String where = named(root, location, file);
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read " + where + ": no such file");
        }
        ManifestFile manifest = ManifestFile.read(Files.readAllBytes(file), where);
        Entries entries = Entries.of(manifest);
        List<ManifestFile.Adapter> list = entries.in(manifest);
        String field = entries.field();
        List<AdapterSummary> adapters = new ArrayList<>();
        Map<String, Path> records = new HashMap<>();
        Set<String> names = new HashSet<>();
        List<RankSearchSection.Search> rankSearches = new ArrayList<>();
        boolean manifestOnly = list.size() > ReportWriter.CURVES_FOR_ALL;
        for (int i = 0; i < list.size(); i++) {
            ManifestFile.Adapter entry = list.get(i);
            String at = field + "[" + i + "]";
            if (entry == null) {
                throw bad(where, at, "is null: expected an object");
            }
            String name = entry.name();
            if (name == null || name.isEmpty()) {
                throw bad(where, at + ".name", "is missing");
            }
            RankSearchSection.Search search = RankSearchSection.read(entry, where, at);
            if (search != null) {
                rankSearches.add(search);
            }
            if (entry.isFailed()) {
                continue; // a failed adapter has no files: the manifest holds its reason
            }
            if (!names.add(name)) {
                throw bad(where, at + ".name", "repeats " + entries.noun() + " \"" + name + "\"");
            }
            String rel = entry.path();
            Path adapterDir = root.resolve(rel != null ? rel : field + "/" + name).normalize();
            if (!adapterDir.startsWith(root) || adapterDir.equals(root)) {
                throw bad(where, at + ".path", "\"" + rel + "\" is outside the output directory");
            }
            Path record = adapterDir.resolve(TRAINING_RECORD);
            records.put(name, record);
            TrainingHistory history = manifestOnly ? TrainingHistory.UNKNOWN
                    : TrainingHistory.read(record, named(root, location, record));
            Long parameters = entry.parameters() != null ? entry.parameters() : entry.trainableParams();
            adapters.add(new AdapterSummary(name, entry.key(),
                    firstKnown(entry.rows(), history.rows()),
                    firstKnown(entry.steps() == null ? null : entry.steps().longValue(), history.steps()),
                    firstKnown(entry.finalTrainLoss(), history.finalTrainLoss()),
                    firstKnown(entry.finalHeldOutLoss(), history.finalHeldOutLoss()),
                    firstKnown(entry.baseHeldOutLoss(), history.baseHeldOutLoss()),
                    firstKnown(entry.seconds(), history.totalSeconds()),
                    parameters == null ? -1 : parameters, history.trainHistory(), history.heldOutHistory()));
        }
        JsonNode router = manifest.router() != null && manifest.router().isObject() ? manifest.router() : null;
        return new TrainOutput(root, location, adapters, records, rankSearches, plane, entries, router);
    }

    /** {@code file} of the output in {@code dir} as messages name it: under {@code location}. */
    static String named(Path dir, String location, Path file) {
        String rel = dir.relativize(file).toString().replace('\\', '/');
        return location.endsWith("/") ? location + rel : location + "/" + rel;
    }

    /** "Cannot read &lt;where&gt;: field "&lt;field&gt;" &lt;problem&gt;", for what the types do not check. */
    static IOException bad(String where, String field, String problem) {
        return new IOException("Cannot read " + where + ": field \"" + field + "\" " + problem);
    }

    private static long firstKnown(Long manifest, long record) {
        return manifest != null && manifest >= 0 ? manifest : record;
    }

    private static double firstKnown(Double manifest, double record) {
        return manifest != null && !Double.isNaN(manifest) ? manifest : record;
    }
}
