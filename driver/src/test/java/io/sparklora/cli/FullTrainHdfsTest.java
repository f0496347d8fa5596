package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.cluster.MiniHdfs;
import io.sparklora.model.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --full} with base, data and output on a real HDFS (MiniDFSCluster): each model is committed by rename
 * with its marker, listed in the manifest with the SHA-256 of the weights on HDFS, and loads back; {@code report} on
 * the HDFS output renders the page ({@link FullTrainReportCheck}) and PNGs a report of the same output on file:// has.
 */
@Tag("slow")
class FullTrainHdfsTest {
    @TempDir
    Path tmp;

    @Test
    void modelsAreCommittedOnHdfs() throws Exception {
        Path data = TrainCommandTest.tinyModelAndTwoKeys(tmp);
        Path model = tmp.resolve("model");
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            FileSystem fs = FileSystem.get(hdfs.uri(), hdfs.configuration());
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(model.toUri()),
                    new org.apache.hadoop.fs.Path(hdfs.uri("model")));
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(data.toUri()),
                    new org.apache.hadoop.fs.Path(hdfs.uri("rows.jsonl")));
            String out = hdfs.uri("runs/full").toString();
            CliTest.Run run = CliTest.cli("train", "--full", "--model", hdfs.uri("model").toString(), "--data",
                    hdfs.uri("rows.jsonl").toString(), "--partition-by", "lang", "--steps", "5", "--batch", "2",
                    "--seq", "32", "--lr", "3e-3", "--out", out, "--master", "local[2]");
            assertEquals(0, run.status(), run.err());
            Path local = tmp.resolve("fetched");
            fs.copyToLocalFile(new org.apache.hadoop.fs.Path(out), new org.apache.hadoop.fs.Path(local.toUri()));
            JsonNode m = TrainCommandTest.manifest(local);
            assertEquals(2, m.path("models").size());
            for (JsonNode e : m.path("models")) {
                Path dir = local.resolve(e.path("path").asText());
                assertEquals("trained", e.path("status").asText());
                assertTrue(Files.exists(dir.resolve("_committed.json")));
                assertEquals(io.sparklora.util.Hashing.sha256(dir.resolve("model.safetensors")),
                        e.path("sha256").path("model.safetensors").asText());
                assertEquals(TrainCommandTest.TINY.hiddenSize(), Checkpoints.load(dir).config().hiddenSize());
            }
            try (var names = Files.list(local.resolve("models"))) {
                assertEquals(List.of("cat", "market"), names.map(p -> p.getFileName().toString()).sorted().toList(),
                        "no temporary commit directories left");
            }

            // `report` from the HDFS output writes the page and charts a report of the same output on file:// has
            CliTest.Run report = CliTest.cli("report", "--out", out);
            assertEquals(0, report.status(), report.err());
            assertTrue(report.out().contains("Report: " + out + "/report/index.html"), report.out());
            Path fromHdfs = tmp.resolve("report-from-hdfs");
            fs.copyToLocalFile(new org.apache.hadoop.fs.Path(out + "/report"),
                    new org.apache.hadoop.fs.Path(fromHdfs.toUri()));
            CliTest.Run onFile = CliTest.cli("report", "--out", local.toUri().toString());
            assertEquals(0, onFile.status(), onFile.err());
            String page = FullTrainReportCheck.check(local);
            String hdfsPage = Files.readString(fromHdfs.resolve("index.html"));
            assertTrue(hdfsPage.contains("Output: <code>" + out + "</code>"), "the page names the HDFS output");
            assertEquals(comparable(page), comparable(hdfsPage));
            assertEquals(files(local.resolve("report")), files(fromHdfs));
            for (String f : files(fromHdfs)) {
                if (f.endsWith(".png")) {
                    assertTrue(java.util.Arrays.equals(Files.readAllBytes(local.resolve("report").resolve(f)),
                            Files.readAllBytes(fromHdfs.resolve(f))), f);
                }
            }
        }
    }

    /** The page without the output's location and the time it was made. */
    private static String comparable(String html) {
        return FullTrainCommandTest.withoutGenerated(html).replaceAll("Output: <code>[^<]*</code>", "Output:");
    }

    /** The names of the report's files, without the .crc files Hadoop's local copy adds. */
    private static List<String> files(Path dir) throws java.io.IOException {
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
        }
    }
}
