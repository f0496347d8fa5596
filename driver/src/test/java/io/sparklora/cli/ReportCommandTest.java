package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report command's own behaviour; what it renders is tested in io.sparklora.report. */
class ReportCommandTest {
    @TempDir
    Path tmp;

    @Test
    void aMissingManifestIsOneErrorLine() {
        Path out = tmp.resolve("nothing");

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(1, run.status());
        assertEquals("Error: Cannot read manifest " + out.toAbsolutePath().resolve("manifest.json")
                + ": no such file\n", run.err());
    }

    @Test
    void aBadEvalMatrixNamesTheField() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("manifest.json"), "{\"adapters\": []}");
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
        Files.writeString(out.resolve("manifest.json"), "{\"adapters\": []}");

        CliTest.Run run = CliTest.cli("report", "--out", out.toString());

        assertEquals(0, run.status(), run.err());
        assertEquals("Report: " + out.toAbsolutePath().resolve("report/index.html") + "\n", run.out());
    }
}
