package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.cli.SparkLoraCli;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's "Rank search" and "Plane" sections from hand-written manifest and plane.json files: the expected
 * choices are worked out by hand below, not by the code under test.
 */
class ExplorationReportTest {
    @TempDir
    Path tmp;

    /** de tried 1, 2, 4 and kept 2; en's search failed at its first rank. */
    private static final String RANK_SEARCH_MANIFEST = "{\"format_version\": 1, \"adapters\": ["
            + "{\"name\": \"de\", \"key\": \"de\", \"path\": \"adapters/de\", \"status\": \"trained\", \"rank\": 2,"
            + " \"rank_search\": [{\"rank\": 1, \"held_out_loss\": 0.9, \"seconds\": 3.5},"
            + " {\"rank\": 2, \"held_out_loss\": 0.8, \"seconds\": 4.25},"
            + " {\"rank\": 4, \"held_out_loss\": 0.795, \"seconds\": 6.0}]},"
            + "{\"name\": \"en\", \"key\": \"en\", \"status\": \"failed\", \"reason\": \"rank 1: NaN loss\","
            + " \"rank_search\": [{\"rank\": 1, \"held_out_loss\": null, \"seconds\": 0.0}]}]}";

    /**
     * Two partitions, tolerance 2%. de: best all-linear r4 (1.50); within 1.53 are all-linear r4, all-linear r1
     * (1.52, 9,760 params) and q_proj+v_proj r4 (1.525, 8,192 params): the smallest adequate is q_proj+v_proj r4.
     * es: best is the full corner (1.20); nothing else is within 1.224, so both choices are the corner. A third
     * partition, "frontier", has only a failed point.
     */
    private static final String PLANE = "{\"tolerance\": 0.02, \"points\": ["
            + point("de", "q_proj+v_proj", "[\"q_proj\", \"v_proj\"]", "1", 2048, "1.70")
            + "," + point("de", "q_proj+v_proj", "[\"q_proj\", \"v_proj\"]", "4", 8192, "1.525")
            + "," + point("de", "all-linear", "[\"q_proj\", \"k_proj\", \"down_proj\"]", "1", 9760, "1.52")
            + "," + point("de", "all-linear", "[\"q_proj\", \"k_proj\", \"down_proj\"]", "4", 39040, "1.50")
            + "," + point("de", "full", "[\"full\"]", "\"full\"", 857216, "1.60")
            + "," + point("es", "q_proj+v_proj", "[\"q_proj\", \"v_proj\"]", "1", 2048, "1.40")
            + "," + point("es", "full", "[\"full\"]", "\"full\"", 857216, "1.20")
            + "," + point("frontier", "q_proj+v_proj", "[\"q_proj\", \"v_proj\"]", "1", 2048, "null")
            + "], \"partitions\": []}";

    private static String point(String name, String targetsId, String targets, String rank, long params,
                                String loss) {
        return "{\"key\": \"" + name + "\", \"name\": \"" + name + "\", \"targets_id\": \"" + targetsId
                + "\", \"targets\": " + targets + ", \"rank\": " + rank + ", \"path\": \"points/x/" + name
                + "\", \"trainable_params\": " + params + ", \"adapter_bytes\": " + (4 * params + 700)
                + ", \"held_out_loss\": " + loss + ", \"seconds\": 2.5}";
    }

    @Test
    void aRankSearchOutputShowsEveryRankTriedAndWritesItsCsv() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path de = Files.createDirectories(out.resolve("adapters/de"));
        Files.writeString(de.resolve("training.json"), ReportFixtures.trainingJson("de", 20, true, 0));
        Files.writeString(out.resolve("manifest.json"), RANK_SEARCH_MANIFEST);

        assertEquals(0, SparkLoraCli.run("report", "--out", out.toString()));

        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("<h2>Rank search</h2>"), html);
        assertTrue(html.contains("<tr><td rowspan=\"3\">de</td><td rowspan=\"3\" class=\"num\">2</td>"
                + "<td class=\"num\">1</td><td class=\"num\">0.9000</td><td class=\"num\">3.5</td></tr>"), html);
        assertTrue(html.contains("<tr><td class=\"num\"><b>2</b></td><td class=\"num\"><b>0.8000</b></td>"
                + "<td class=\"num\">4.3</td></tr>"), html);
        assertTrue(html.contains("<td class=\"num\">4</td><td class=\"num\">0.7950</td>"), html);
        assertTrue(html.contains("<tr><td rowspan=\"1\">en</td><td rowspan=\"1\" class=\"num\">failed</td>"
                + "<td class=\"num\">1</td><td class=\"num\">failed</td>"), html);
        assertTrue(html.contains("href=\"rank-search.csv\""), html);
        assertEquals(List.of("adapter,rank,held_out_loss,seconds,chosen", "de,1,0.9,3.5,false", "de,2,0.8,4.25,true",
                "de,4,0.795,6.0,false", "en,1,,0.0,false"), Files.readAllLines(out.resolve("report/rank-search.csv")));
        assertFalse(html.contains("<h2>Plane</h2>"), html);
    }

    @Test
    void aSweepOutputWithOnlyPlaneJsonRendersThePlane() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        Files.writeString(out.resolve("plane.json"), PLANE);

        assertEquals(0, SparkLoraCli.run("report", "--out", out.toString()));

        assertPlaneReport(out);
    }

    @Test
    void aSweepOnAnotherFileSystemIsStagedWithoutAManifest() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        Files.writeString(out.resolve("plane.json"), PLANE);
        ByteArrayOutputStream log = new ByteArrayOutputStream();

        Reports.renderStaged(out.toUri().toString(), null, new Configuration(),
                new PrintStream(log, true, StandardCharsets.UTF_8));

        assertPlaneReport(out);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("report/index.html"), log.toString());
    }

    @Test
    void aPlaneWithABadRankIsRefusedNamingTheField() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        Files.writeString(out.resolve("plane.json"), "{\"tolerance\": 0.01, \"points\": ["
                + point("de", "q_proj", "[\"q_proj\"]", "0", 10, "1.0") + "]}");

        IOException e = assertThrows(IOException.class, () -> TrainOutput.read(out));

        assertEquals("Cannot read plane " + out.toAbsolutePath().resolve("plane.json") + ": field \"points[0].rank\" "
                + "is 0: expected a positive whole number or \"full\"", e.getMessage());
    }

    @Test
    void aChosenRankThatWasNotTriedIsRefused() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.createDirectories(out.resolve("adapters/de"));
        Files.writeString(out.resolve("adapters/de/training.json"), ReportFixtures.trainingJson("de", 5, true, 0));
        Files.writeString(out.resolve("manifest.json"), RANK_SEARCH_MANIFEST.replace("\"trained\", \"rank\": 2,",
                "\"trained\", \"rank\": 8,"));

        IOException e = assertThrows(IOException.class, () -> TrainOutput.read(out));

        assertTrue(e.getMessage().endsWith("field \"adapters[0].rank\" is 8, not one of the ranks in rank_search"),
                e.getMessage());
    }

    private static void assertPlaneReport(Path out) throws IOException {
        Path report = out.resolve("report");
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("<h2>Plane</h2>"), html);
        assertTrue(html.contains("within 2% of the best"), html);
        assertFalse(html.contains("<h2>Adapters</h2>"), "a sweep has no adapters of its own: " + html);
        assertTrue(html.contains("<tr><td>de</td><td>de</td><td title=\"q_proj, k_proj, down_proj\">all-linear r4</td>"
                + "<td class=\"num\">39040</td><td class=\"num\">1.5000</td>"
                + "<td title=\"q_proj, v_proj\">q_proj+v_proj r4</td><td class=\"num\">8192</td>"
                + "<td class=\"num\">1.5250</td></tr>"), html);
        assertTrue(html.contains("<tr><td>es</td><td>es</td><td title=\"full\">full fine-tuning</td>"
                + "<td class=\"num\">857216</td><td class=\"num\">1.2000</td><td title=\"full\">full fine-tuning</td>"
                + "<td class=\"num\">857216</td><td class=\"num\">1.2000</td></tr>"), html);
        assertTrue(html.contains("<tr><td>frontier</td><td>frontier</td><td colspan=\"6\">every point failed</td>"),
                html);
        for (String png : List.of("plane-de.png", "plane-es.png", "plane-frontier.png")) {
            assertTrue(html.contains("<img src=\"" + png + "\""), png + " embedded: " + html);
            BufferedImage image = ImageIO.read(report.resolve(png).toFile());
            assertTrue(image.getWidth() >= 760 && image.getHeight() >= 420, png + " is a drawn chart");
        }
        // the failed partition "frontier" has no heat map, so it cannot overwrite the frontier chart
        assertFalse(Files.exists(report.resolve("plane-frontier-2.png")));
        assertTrue(html.contains("<p>Every point failed: no heat map.</p>"), html);
        assertTrue(html.contains("href=\"../plane.json\""), html);
        assertTrue(html.contains("its own report: <a href=\"../points/full/report/index.html\">"
                + "points/full/report/index.html</a>"), "the corner's train --full report is linked: " + html);
    }

    @Test
    void aPlaneWithoutTheFullCornerLinksNoCornerReport() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        Files.writeString(out.resolve("plane.json"), "{\"tolerance\": 0.01, \"points\": ["
                + point("de", "q_proj", "[\"q_proj\"]", "1", 1024, "1.0") + "]}");

        ReportWriter.write(TrainOutput.read(out), null);

        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("<h2>Plane</h2>"), html);
        assertFalse(html.contains("points/full"), html);
    }
}
