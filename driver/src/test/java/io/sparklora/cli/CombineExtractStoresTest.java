package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.cluster.MiniHdfs;
import io.sparklora.cluster.S3Endpoint;
import io.sparklora.util.Hashing;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * combine and extract with inputs on a real HDFS (MiniDFSCluster) and outputs on HDFS and on a real S3 endpoint
 * (S3Proxy, signed requests), reached through {@code spark.hadoop.*} system properties as spark-submit passes them:
 * the files written there are byte for byte those of the same command run on local directories.
 */
@Tag("slow")
class CombineExtractStoresTest {
    @TempDir
    Path tmp;

    @Test
    void inputsOnHdfsOutputsOnHdfsAndS3MatchTheLocalRun() throws Exception {
        Path model = PretrainCommandTest.initModel(tmp.resolve("base"), 64);
        Path a = AdapterFixtures.adapter(model, tmp.resolve("a"), 2, 4, 1, "q_proj", "v_proj");
        Path b = AdapterFixtures.adapter(model, tmp.resolve("b"), 3, 3, 2, "q_proj", "o_proj");
        Path tuned = ExtractCommandTest.fineTune(model, tmp.resolve("t.txt"), tmp.resolve("tuned"));
        assertEquals(0, cli("combine", "--model", model.toString(), "--adapters", a + "," + b, "--method", "svd",
                "--rank", "3", "--out", tmp.resolve("local-combined").toString()).status());
        assertEquals(0, cli("extract", "--model", model.toString(), "--tuned", tuned.toString(), "--rank", "4",
                "--out", tmp.resolve("local-extracted").toString()).status());

        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
             S3Endpoint s3 = S3Endpoint.start("combine-extract")) {
            FileSystem fs = FileSystem.get(hdfs.uri(), hdfs.configuration());
            for (Path dir : new Path[] {model, a, b, tuned}) {
                fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(dir.toUri()),
                        new org.apache.hadoop.fs.Path(hdfs.uri(dir.getFileName().toString())));
            }
            String h = hdfs.uri().toString();
            s3.sparkSettings().forEach(System::setProperty);
            try {
                CliTest.Run combined = cli("combine", "--model", h + "base", "--adapters", h + "a," + h + "b",
                        "--method", "svd", "--rank", "3", "--out", s3.uri("combined").toString());
                assertEquals(0, combined.status(), combined.err());
                CliTest.Run extracted = cli("extract", "--model", h + "base", "--tuned", h + "tuned", "--rank", "4",
                        "--out", h + "extracted");
                assertEquals(0, extracted.status(), extracted.err());
                CliTest.Run taken = cli("combine", "--model", h + "base", "--adapters", h + "a", "--method", "cat",
                        "--out", s3.uri("combined").toString());
                assertEquals(1, taken.status());
                assertTrue(taken.err().contains("Cannot write combined adapter to " + s3.uri("combined")
                        + ": it exists and is not an empty directory"), taken.err());
                fetch(FileSystem.get(s3.uri(""), s3.configuration()), s3.uri("combined").toString(),
                        tmp.resolve("s3-combined"));
                fetch(fs, h + "extracted", tmp.resolve("hdfs-extracted"));
                assertEquals(Hashing.sha256(tmp.resolve("local-combined/adapter_model.safetensors")),
                        Hashing.sha256(tmp.resolve("s3-combined/adapter_model.safetensors")));
                assertEquals(Hashing.sha256(tmp.resolve("local-extracted/adapter_model.safetensors")),
                        Hashing.sha256(tmp.resolve("hdfs-extracted/adapter_model.safetensors")));
                assertEquals(h + "base", new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                        tmp.resolve("hdfs-extracted/adapter_config.json").toFile())
                        .get("base_model_name_or_path").asText());
                assertTrue(Files.exists(tmp.resolve("s3-combined/combine.json")));
                for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(h))) {
                    assertFalse(st.getPath().getName().startsWith("."), "no temporary directory left: " + st);
                }
            } finally {
                s3.sparkSettings().keySet().forEach(System::clearProperty);
            }
        }
    }

    private static void fetch(FileSystem fs, String dir, Path local) throws Exception {
        Files.createDirectories(local);
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(dir))) {
            fs.copyToLocalFile(false, st.getPath(), new org.apache.hadoop.fs.Path(local.resolve(st.getPath()
                    .getName()).toUri()), true);
        }
        assertTrue(Files.exists(local.resolve("adapter_config.json")), dir);
    }
}
