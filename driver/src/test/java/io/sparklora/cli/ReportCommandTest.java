package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report command's own behaviour; what it renders is tested in io.sparklora.report. */
class ReportCommandTest {
    /** A manifest as the driver writes one for a run that trained nothing. */
    private static final String EMPTY_MANIFEST = "{\"format_version\": 1, \"written_at\": \"2026-01-01T00:00:00Z\","
            + " \"job\": null, \"malformed_rows_skipped\": 0, \"adapters\": [], \"skipped\": []}";

    @TempDir
    Path tmp;

    @Test
    void aManifestWithoutFormatVersionIsOneErrorLine() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("manifest.json"), "{\"adapters\": []}");

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(1, run.status());
        assertEquals("Error: Cannot read " + out.toAbsolutePath().resolve("manifest.json") + ": it has no "
                + "format_version; this spark-lora reads format_version 1\n", run.err());
        assertTrue(Files.notExists(out.resolve("report")), "nothing written");
    }

    @Test
    void aNewerManifestIsOneErrorLine() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("manifest.json"), EMPTY_MANIFEST.replace("\"format_version\": 1",
                "\"format_version\": 2"));

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(1, run.status());
        assertEquals("Error: Cannot read " + out.toAbsolutePath().resolve("manifest.json") + ": format_version 2 is "
                + "newer than this spark-lora knows (written by a later version?); this spark-lora reads "
                + "format_version 1\n", run.err());
        assertTrue(Files.notExists(out.resolve("report")), "nothing written");
    }

    @Test
    void aMalformedTrainingRecordIsOneErrorLine() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path record = Files.createDirectories(out.resolve("adapters/de")).resolve("training.json");
        Files.writeString(record, "{\"format_version\": 1, \"steps\": \"many\"}");
        Files.writeString(out.resolve("manifest.json"), EMPTY_MANIFEST.replace("\"adapters\": []",
                "\"adapters\": [{\"name\": \"de\", \"key\": \"de\", \"path\": \"adapters/de\", "
                        + "\"status\": \"trained\"}]"));

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(1, run.status());
        String err = run.err();
        assertTrue(err.startsWith("Error: Cannot read " + out.toAbsolutePath().resolve("adapters/de/training.json")
                + ": "), err);
        assertTrue(err.endsWith("(at /steps)\n") && err.indexOf('\n') == err.length() - 1, err);
        assertTrue(Files.notExists(out.resolve("report")), "nothing written");
    }

    @Test
    void aMissingManifestIsOneErrorLine() {
        Path out = tmp.resolve("nothing");

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(1, run.status());
        assertEquals("Error: Cannot read " + out.toAbsolutePath().resolve("manifest.json")
                + ": no such file\n", run.err());
    }

    @Test
    void aBadEvalMatrixNamesTheField() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("manifest.json"), EMPTY_MANIFEST);
        Path eval = tmp.resolve("eval.json");
        Files.writeString(eval, "{\"partitions\": [\"de\"], \"rows\": [{\"model\": \"base\", \"mean_loss\": [1, 2]}]}");

        CliTest.Run run = CliTest.cli("report", "--out", out.toString(), "--eval", eval.toString());

        assertEquals(1, run.status());
        assertEquals("Error: Cannot read eval matrix " + eval + ": field \"rows[0].loss\" has 2 values for 1 "
                + "partitions\n", run.err());
        assertTrue(Files.notExists(out.resolve("report")), "nothing written");
    }

    @Test
    void successPrintsWhereTheReportIs() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("manifest.json"), EMPTY_MANIFEST);

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(0, run.status(), run.err());
        assertEquals("Report: " + out.toAbsolutePath().resolve("report/index.html") + "\n", run.out());
    }
}
