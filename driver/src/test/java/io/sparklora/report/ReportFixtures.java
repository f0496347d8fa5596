package io.sparklora.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Builds train output directories as {@code train} writes them, with synthetic but plausible loss curves. */
final class ReportFixtures {
    static final List<String> LANGUAGES = List.of("de", "en", "es", "it");

    private ReportFixtures() {
    }

    /** An output with one adapter per language; "it" has no held-out rows. */
    static Path trainOutput(Path dir) throws IOException {
        StringBuilder manifest = new StringBuilder("{\"adapters\": [");
        for (int i = 0; i < LANGUAGES.size(); i++) {
            String lang = LANGUAGES.get(i);
            boolean heldOut = !lang.equals("it");
            int steps = 60 + 20 * i;
            Path adapterDir = Files.createDirectories(dir.resolve("adapters").resolve(lang));
            Files.writeString(adapterDir.resolve("training.json"), trainingJson(lang, steps, heldOut, i));
            manifest.append(i > 0 ? "," : "").append(String.format(Locale.ROOT,
                    "{\"name\": \"%s\", \"key\": \"%s\", \"path\": \"adapters/%s\", \"status\": \"trained\", "
                            + "\"rank\": 8, \"rows\": %d, \"steps\": %d, \"final_held_out_loss\": null}",
                    lang, lang, lang, 300 + 50 * i, steps));
        }
        Files.writeString(dir.resolve("manifest.json"), "{\"format_version\": 1, " + manifest.substring(1) + "]}");
        return dir;
    }

    /**
     * training.json as the driver writes it (format 1, histories as [step, loss, learning rate]), with a loss that
     * decays from 5.5 towards a floor and a little deterministic wiggle.
     */
    static String trainingJson(String name, int steps, boolean heldOut, int seed) {
        StringBuilder train = new StringBuilder();
        StringBuilder held = new StringBuilder();
        double last = 0;
        double lastHeld = Double.NaN;
        for (int s = 1; s <= steps; s++) {
            last = 1.4 + 0.1 * seed + 4.1 * Math.exp(-s / 15.0) + 0.08 * Math.sin(s * 1.7 + seed);
            train.append(s > 1 ? "," : "").append(String.format(Locale.ROOT, "[%d, %.5f, %.6f]", s, last, 1e-3));
            if (heldOut && s % 10 == 0) {
                lastHeld = last + 0.15;
                held.append(held.length() > 0 ? "," : "").append(String.format(Locale.ROOT,
                        "[%d, %.5f, %.6f]", s, lastHeld, 1e-3));
            }
        }
        return String.format(Locale.ROOT, "{\"format_version\": 1, \"adapter\": \"%s\", \"data\": {\"rows\": %d}, "
                + "\"steps\": %d, \"final_train_loss\": %.5f, \"final_held_out_loss\": %s, "
                + "\"base_held_out_loss\": %s, \"train_history\": [%s], \"held_out_history\": [%s], "
                + "\"timings\": {\"train_seconds\": 10.0, \"total_seconds\": %.2f}}",
                name, 999, steps, last, Double.isNaN(lastHeld) ? "null" : String.format(Locale.ROOT, "%.5f", lastHeld),
                heldOut ? "3.25" : "null", train, held, 12.5 + seed);
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
