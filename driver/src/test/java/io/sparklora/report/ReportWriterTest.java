package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.cli.SparkLoraCli;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
    @TempDir
    Path tmp;

    @Test
    void reportCommandWritesReadablePngsAndAnIndexThatReferencesThemAll() throws IOException {
        Path out = ReportFixtures.trainOutput(tmp.resolve("out"));
        Path eval = ReportFixtures.evalMatrix(tmp.resolve("eval.json"));

        assertEquals(0, SparkLoraCli.run("report", "--out", out.toString(), "--eval", eval.toString()));

        Path report = out.resolve("report");
        for (String lang : ReportFixtures.LANGUAGES) {
            assertImage(report.resolve("loss-" + lang + ".png"), LossCurveChart.WIDTH, LossCurveChart.HEIGHT);
        }
        EvalMatrix matrix = EvalMatrix.read(eval);
        assertImage(report.resolve("eval-heatmap.png"), EvalHeatmapChart.width(matrix),
                EvalHeatmapChart.height(matrix));

        String html = Files.readString(report.resolve("index.html"));
        assertEquals(matrix, EvalMatrix.read(report.resolve("eval-matrix.json")), "the kept copy reads back equal");
        try (Stream<Path> files = Files.list(report)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.equals("index.html")) {
                    assertTrue(html.contains("src=\"" + name + "\"") || html.contains("href=\"" + name + "\""),
                            "index.html references " + name);
                }
            }
        }
        for (String lang : ReportFixtures.LANGUAGES) {
            assertTrue(html.contains("<a href=\"#adapter-" + lang + "\">" + lang + "</a>"), "summary row of " + lang);
        }
        // the summary table carries the manifest's rows/steps and the record's losses and seconds
        assertTrue(html.contains("<td class=\"num\">300</td><td class=\"num\">60</td>"), html);
        assertTrue(html.contains("<td class=\"num\">3.2500</td><td class=\"num\">12.5</td>"), html);
        // "it" has no held-out rows and the base's "it" cell was not measured: empty cells, not "NaN"
        assertFalse(html.contains("NaN"), html);
        // the eval table marks the best model of each partition: the adapter of that language
        assertTrue(html.contains("<tr><th>de</th><td class=\"num\"><b>1.6000</b></td>"), html);
    }

    @Test
    void rerenderingWithoutEvalKeepsTheLastMatrix() throws IOException {
        Path out = ReportFixtures.trainOutput(tmp.resolve("out"));
        Path eval = ReportFixtures.evalMatrix(tmp.resolve("eval.json"));
        assertEquals(0, SparkLoraCli.run("report", "--out", out.toString(), "--eval", eval.toString()));

        assertEquals(0, SparkLoraCli.run("report", "--out", out.toString()));

        assertTrue(Files.readString(out.resolve("report/index.html")).contains("<img src=\"eval-heatmap.png\""));
        assertEquals(EvalMatrix.read(eval), ReportWriter.previousEval(out));
    }

    @Test
    void aMatrixTooLargeToReadIsATableWithoutHeatMap() throws IOException {
        Path out = ReportFixtures.trainOutput(tmp.resolve("out"));
        int models = EvalHeatmapChart.MAX_MODELS + 1;
        List<String> names = new java.util.ArrayList<>();
        double[][] loss = new double[models][2];
        for (int r = 0; r < models; r++) {
            names.add("m" + r);
            loss[r] = new double[] {r, r + 0.5};
        }
        EvalMatrix big = new EvalMatrix(names, List.of("a", "b"), loss);

        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), big);

        assertFalse(w.files().contains("eval-heatmap.png"), w.files().toString());
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("The matrix (61 x 2) is too large for a readable heat map"), html);
        assertTrue(html.contains("<tr><th>m60</th><td class=\"num\">60.0000</td>"), html);
    }

    @Test
    void rerenderingReplacesTheOldReport() throws IOException {
        Path out = ReportFixtures.trainOutput(tmp.resolve("out"));
        Files.createDirectories(out.resolve("report"));
        Files.writeString(out.resolve("report/eval-heatmap.png"), "stale");

        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), null);

        assertEquals(List.of("index.html", "loss-de.png", "loss-en.png", "loss-es.png", "loss-it.png"), w.files());
        assertFalse(Files.exists(out.resolve("report/eval-heatmap.png")), "stale heat map removed");
        assertFalse(Files.readString(out.resolve("report/index.html")).contains("Cross-evaluation"));
        try (Stream<Path> siblings = Files.list(out)) {
            assertEquals(0, siblings.filter(p -> p.getFileName().toString().startsWith(".report")).count(),
                    "no temporary directory left");
        }
    }

    @Test
    void adapterNamesAreEscapedInHtmlAndMadeSafeAsFileNames() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path adapter = Files.createDirectories(out.resolve("adapters/x"));
        Files.writeString(adapter.resolve("training.json"), ReportFixtures.trainingJson("<b>&x", 5, true, 0));
        ReportFixtures.writeManifest(out, List.of(ReportFixtures.entry("../<b>&x", "adapters/x", 5, 5, Double.NaN)));

        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), null);

        assertEquals(List.of("index.html", "loss-_.__b__x.png"), w.files());
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("../&lt;b&gt;&amp;x"), html);
        assertFalse(html.contains("<b>&x"), html);
    }

    @Test
    void anAdapterPathOutsideTheOutputIsRefused() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        ReportFixtures.writeManifest(out, List.of(ReportFixtures.entry("a", "../a", 1, 1, Double.NaN)));

        IOException e = assertThrows(IOException.class, () -> TrainOutput.read(out));

        assertEquals("Cannot read " + out.resolve("manifest.json") + ": field \"adapters[0].path\" "
                + "\"../a\" is outside the output directory", e.getMessage());
    }

    /** Decodes the PNG, checks its size, and checks it is not one flat colour (pixel variance of the luminance). */
    static void assertImage(Path png, int width, int height) throws IOException {
        assertTrue(Files.isRegularFile(png), png + " exists");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(width, img.getWidth(), png + " width");
        assertEquals(height, img.getHeight(), png + " height");
        double sum = 0;
        double sumSq = 0;
        long n = (long) width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = img.getRGB(x, y);
                double lum = 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
                sum += lum;
                sumSq += lum * lum;
            }
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        assertTrue(variance > 100, png + " is not blank: luminance variance " + variance);
    }
}
