package io.sparklora.report;

import io.sparklora.driver.Plane;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Writes {@code <out>/report/}: {@code loss-<adapter>.png} per adapter with a loss history, {@code eval-heatmap.png}
 * when an eval matrix is given, {@code rank-search.csv} after {@code train --rank auto}, {@code plane-<name>.png} and
 * {@code plane-frontier.png} for a {@code sweep}'s plane, and {@code index.html} tying them together. The directory is built beside the old one
 * and swapped in, so a failed render leaves the previous report as it was.
 */
public final class ReportWriter {
    public static final String DIR = "report";
    public static final String INDEX = "index.html";
    public static final String HEATMAP = "eval-heatmap.png";
    /** The eval matrix the report last showed, kept so that re-rendering without --eval still shows it. */
    public static final String EVAL_COPY = "eval-matrix.json";
    /** The overview chart of a report with more than {@link #CURVES_FOR_ALL} adapters. */
    public static final String GAINS = "gains.png";
    /**
     * Up to this many adapters the report draws every adapter's curves; above, an overview chart of all gains, the
     * curves of a few ({@link CurveSelection}) and the full tables as CSV and JSON: one PNG per adapter is neither
     * readable nor cheap at thousands.
     */
    public static final int CURVES_FOR_ALL = 24;

    private ReportWriter() {
    }

    /** What was written: the report directory and its files in the order the page shows them. */
    public record Written(Path dir, List<String> files) {
        public Written {
            files = List.copyOf(files);
        }
    }

    /**
     * Renders the report of a train output directory (local file system).
     *
     * @param output the adapters, from {@link TrainOutput#read}
     * @param eval   the eval matrix, or null for none
     */
    public static Written write(TrainOutput output, EvalMatrix eval) throws IOException {
        return write(output, eval, output.dir().toString());
    }

    /**
     * Renders the report of a local copy of an output, the page naming the output by {@code location} (the URI a
     * staged render of an {@code hdfs://} or {@code s3a://} output came from).
     */
    public static Written write(TrainOutput output, EvalMatrix eval, String location) throws IOException {
        Charts.headless();
        Path target = output.dir().resolve(DIR);
        Path tmp = output.dir().resolve("." + DIR + ".tmp-" + UUID.randomUUID());
        Files.createDirectories(tmp);
        try {
            List<String> files = new ArrayList<>();
            Map<String, String> curves = new LinkedHashMap<>();
            Set<String> used = new HashSet<>();
            boolean overview = output.adapters().size() > CURVES_FOR_ALL;
            Map<String, String> shown = overview ? CurveSelection.of(output.adapters()) : null;
            TrainOutput drawn = overview ? output.withHistoriesOf(shown.keySet()) : output;
            for (AdapterSummary a : drawn.adapters()) {
                if (overview && !shown.containsKey(a.name())
                        || a.trainHistory().isEmpty() && a.heldOutHistory().isEmpty()) {
                    continue;
                }
                String png = uniqueName("loss-" + fileSafe(a.name()), used) + ".png";
                writePng(LossCurveChart.render(a), tmp.resolve(png));
                curves.put(a.name(), png);
                files.add(png);
            }
            String heatmap = null;
            if (eval != null) {
                if (EvalHeatmapChart.fits(eval)) {
                    heatmap = HEATMAP;
                    writePng(EvalHeatmapChart.render(eval), tmp.resolve(heatmap));
                    files.add(heatmap);
                }
                Files.writeString(tmp.resolve(EVAL_COPY), eval.toJson(), StandardCharsets.UTF_8);
                files.add(EVAL_COPY);
            }
            StringBuilder exploration = new StringBuilder();
            if (!output.rankSearches().isEmpty()) {
                Files.writeString(tmp.resolve(RankSearchSection.CSV), RankSearchSection.csv(output.rankSearches()),
                        StandardCharsets.UTF_8);
                files.add(RankSearchSection.CSV);
                exploration.append(RankSearchSection.html(output.rankSearches()));
            }
            if (output.plane() != null) {
                exploration.append(planeCharts(output.plane(), tmp, used, files));
            }
            String generated = "Generated " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " by spark-lora "
                    + io.sparklora.cli.Versions.sparkLora() + ".";
            String html;
            if (overview) {
                AdapterTables.write(output.adapters(), tmp);
                files.add(AdapterTables.CSV);
                files.add(AdapterTables.JSON);
                String gains = null;
                if (output.adapters().stream().anyMatch(a -> !Double.isNaN(GainsChart.gain(a)))) {
                    gains = GAINS;
                    writePng(GainsChart.render(output.adapters()), tmp.resolve(GAINS));
                    files.add(GAINS);
                }
                html = OverviewPage.render(drawn, shown, curves, gains, eval, heatmap, exploration.toString(),
                        location, generated);
            } else {
                html = HtmlReport.render(output, curves, eval, heatmap, exploration.toString(), location,
                        generated);
            }
            Files.writeString(tmp.resolve(INDEX), html, StandardCharsets.UTF_8);
            files.add(0, INDEX);
            deleteRecursively(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return new Written(target, files);
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
    }

    /** Draws the plane's heat maps (one per partition with a finite point) and frontier; returns its section. */
    private static String planeCharts(PlaneSection plane, Path dir, Set<String> used, List<String> files)
            throws IOException {
        Map<String, List<Plane.Point>> byName = Plane.byPartition(plane.points());
        String frontierBase = PlaneCharts.FRONTIER.substring(0, PlaneCharts.FRONTIER.length() - ".png".length());
        used.add(frontierBase); // a partition named "frontier" gets plane-frontier-2.png
        Map<String, String> heatmaps = new LinkedHashMap<>();
        for (Map.Entry<String, List<Plane.Point>> e : byName.entrySet()) {
            if (PlaneCharts.drawable(e.getValue())) {
                String png = uniqueName(PlaneCharts.heatmapFile(e.getKey()), used) + ".png";
                writePng(PlaneCharts.heatmap(e.getKey(), e.getValue()), dir.resolve(png));
                heatmaps.put(e.getKey(), png);
                files.add(png);
            }
        }
        String frontier = null;
        if (!heatmaps.isEmpty()) {
            frontier = PlaneCharts.FRONTIER;
            writePng(PlaneCharts.frontier(byName), dir.resolve(frontier));
            files.add(frontier);
        }
        return plane.html(frontier, heatmaps);
    }

    /** The eval matrix of the report already under {@code outDir}, or null when it showed none. */
    public static EvalMatrix previousEval(Path outDir) throws IOException {
        Path copy = outDir.resolve(DIR).resolve(EVAL_COPY);
        return Files.isRegularFile(copy) ? EvalMatrix.read(copy) : null;
    }

    private static void writePng(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("Cannot write " + file + ": no PNG writer in this Java runtime");
        }
    }

    /** Adapter names are already reduced to [A-Za-z0-9._-] by train; the report does not rely on it. */
    static String fileSafe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.startsWith(".") ? "_" + s.substring(1) : s;
    }

    private static String uniqueName(String base, Set<String> used) {
        String name = base;
        for (int i = 2; !used.add(name); i++) {
            name = base + "-" + i;
        }
        return name;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
