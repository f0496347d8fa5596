package io.sparklora.report;

import io.sparklora.output.ManifestFile;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds train output directories as {@code train} writes them, with synthetic but plausible loss curves: the
 * manifest and training records are the typed documents, written by their one writer ({@link ManifestFile#toJson},
 * {@link TrainingFile#toJson}), so they carry format_version 1 as every real output does.
 */
final class ReportFixtures {
    static final List<String> LANGUAGES = List.of("de", "en", "es", "it");

    private ReportFixtures() {
    }

    /** An output with one adapter per language; "it" has no held-out rows. */
    static Path trainOutput(Path dir) throws IOException {
        List<ManifestFile.Adapter> entries = new ArrayList<>();
        for (int i = 0; i < LANGUAGES.size(); i++) {
            String lang = LANGUAGES.get(i);
            boolean heldOut = !lang.equals("it");
            int steps = 60 + 20 * i;
            Path adapterDir = Files.createDirectories(dir.resolve("adapters").resolve(lang));
            Files.writeString(adapterDir.resolve("training.json"), trainingJson(lang, steps, heldOut, i));
            // the manifest's held-out loss unmeasured (null): the report takes the record's
            entries.add(entry(lang, "adapters/" + lang, 300 + 50 * i, steps, Double.NaN));
        }
        writeManifest(dir, entries);
        return dir;
    }

    /** A trained rank-8 adapter's manifest entry: its rows, steps and final held-out loss (NaN: not measured). */
    static ManifestFile.Adapter entry(String name, String path, long rows, int steps, double heldOutLoss) {
        return new ManifestFile.Adapter(name, name, path, ManifestFile.TRAINED, null, null, null, null, null, 8,
                null, null, rows, null, steps, null, heldOutLoss, null, null, null, null, null, null, null, null);
    }

    /** {@code dir/manifest.json} listing {@code adapters}, as the driver's Manifest writes it. */
    static void writeManifest(Path dir, List<ManifestFile.Adapter> adapters) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(ManifestFile.FILE), new ManifestFile(ManifestFile.FORMAT_VERSION,
                "2026-01-01T00:00:00Z", null, 0, adapters, null, List.of(), null, null, null).toJson());
    }

    /**
     * training.json as the driver writes it (format 1, histories as [step, loss, learning rate]), with a loss that
     * decays from 5.5 towards a floor and a little deterministic wiggle, rounded to 5 decimals.
     */
    static String trainingJson(String name, int steps, boolean heldOut, int seed) throws IOException {
        List<TrainingFile.Point> train = new ArrayList<>();
        List<TrainingFile.Point> held = new ArrayList<>();
        double last = 0;
        double lastHeld = Double.NaN;
        for (int s = 1; s <= steps; s++) {
            last = round5(1.4 + 0.1 * seed + 4.1 * Math.exp(-s / 15.0) + 0.08 * Math.sin(s * 1.7 + seed));
            train.add(new TrainingFile.Point(s, last, 1e-3));
            if (heldOut && s % 10 == 0) {
                lastHeld = round5(last + 0.15);
                held.add(new TrainingFile.Point(s, lastHeld, 1e-3));
            }
        }
        TrainingFile t = TrainingFile.adapter(name, name, null, null, null, seed, null, null, 0, null,
                new TrainingFile.Data(999, null, 0, 0, 0, 0, null), null, steps, 0, 1, last, lastHeld,
                heldOut ? 3.25 : Double.NaN, train, held, new TrainingFile.Timings(10.0, 0, 0, 12.5 + seed, 0),
                null, null);
        return new String(t.toJson(), StandardCharsets.UTF_8);
    }

    private static double round5(double x) {
        return Math.round(x * 1e5) / 1e5;
    }

    /** As eval writes it: one row per adapter, then the base; each adapter is best on its own language. */
    static Path evalMatrix(Path file) throws IOException {
        StringBuilder rows = new StringBuilder();
        for (int r = 0; r < LANGUAGES.size(); r++) {
            StringBuilder cells = new StringBuilder();
            for (int c = 0; c < LANGUAGES.size(); c++) {
                cells.append(c > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.3f",
                        r == c ? 1.6 + 0.1 * c : 2.6 + 0.07 * (r + 2 * c)));
            }
            rows.append("{\"adapter\": \"").append(LANGUAGES.get(r)).append("\", \"loss\": [").append(cells)
                    .append("], \"perplexity\": []}, ");
        }
        rows.append("{\"adapter\": \"base\", \"loss\": [3.1, 2.9, 3.3, null]}");
        Files.writeString(file, "{\"format_version\": 1, \"columns\": [\"de\", \"en\", \"es\", \"it\"], "
                + "\"column_keys\": [\"de\", \"en\", \"es\", \"it\"], \"rows\": [" + rows + "]}");
        return file;
    }
}
