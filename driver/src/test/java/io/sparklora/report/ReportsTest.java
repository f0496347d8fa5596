package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The staged path used for hdfs:// and s3a:// outputs, exercised through Hadoop's local file system. */
class ReportsTest {
    @TempDir
    Path tmp;

    @Test
    void stagedRenderingWritesTheReportThroughHadoopAndKeepsTheEval() throws IOException {
        Path out = ReportFixtures.trainOutput(tmp.resolve("out"));
        Path eval = ReportFixtures.evalMatrix(tmp.resolve("eval.json"));
        String uri = out.toUri().toString();
        ByteArrayOutputStream log = new ByteArrayOutputStream();

        Reports.renderStaged(uri, eval.toUri().toString(), new Configuration(), new PrintStream(log, true,
                StandardCharsets.UTF_8));
        Files.delete(out.resolve("report/loss-de.png"));
        Reports.renderStaged(uri, null, new Configuration(), new PrintStream(log, true, StandardCharsets.UTF_8));

        for (String f : new String[] {"index.html", "loss-de.png", "loss-it.png", "eval-heatmap.png",
            "eval-matrix.json"}) {
            assertTrue(Files.isRegularFile(out.resolve("report").resolve(f)), f);
        }
        ReportWriterTest.assertImage(out.resolve("report/loss-de.png"), LossCurveChart.WIDTH, LossCurveChart.HEIGHT);
        assertEquals(EvalMatrix.read(eval), ReportWriter.previousEval(out), "second render kept the matrix");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("Report: " + uri.replaceAll("/$", "")
                .replace("file:///", "file:/") + "/report/index.html"), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMissingTrainingRecordIsNamed() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        ReportFixtures.writeManifest(out, List.of(ReportFixtures.entry("a", "adapters/a", 1, 1, Double.NaN)));

        IOException e = assertThrows(IOException.class, () -> Reports.renderStaged(out.toUri().toString(), null,
                new Configuration(), System.out));

        assertTrue(e.getMessage().startsWith("Cannot render the report of " + out.toUri() + ": no "), e.getMessage());
        assertTrue(e.getMessage().endsWith("adapters/a/training.json"), e.getMessage());
        assertFalse(Files.exists(out.resolve("report")));
    }

    @Test
    void localPathsAndFileUrisAreLocalOtherSchemesAreNot() {
        assertEquals(Path.of("runs/x"), Reports.localPath("runs/x"));
        assertEquals(Path.of("/tmp/x"), Reports.localPath("file:///tmp/x"));
        assertNull(Reports.localPath("hdfs://nn:8020/runs/x"));
        assertNull(Reports.localPath("s3a://bucket/runs/x"));
        assertEquals(Path.of("a:b/c"), Reports.localPath("a:b/c").normalize(), "a one-letter scheme is a path");
    }
}
