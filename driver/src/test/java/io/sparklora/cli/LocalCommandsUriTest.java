package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.cluster.MiniHdfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.HdfsConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local commands ({@code score}, {@code generate}, {@code merge}, {@code pretrain}) take the URIs {@code train}
 * takes: with every path on a real HDFS (MiniDFSCluster, started once for the class by the tests that need it) or
 * given as {@code file://} URIs, they print and write byte for byte what the same command prints and writes on plain
 * local paths. The base carries GPT-2's real tokenizer.json, so the tokenizer is read from the URI and copied along.
 */
@Tag("slow")
class LocalCommandsUriTest {
    private static final String TEXT = "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. ".repeat(3);

    @TempDir
    static Path clusterDir;

    private static MiniHdfs hdfs;

    @TempDir
    Path tmp;

    private static synchronized MiniHdfs hdfs() throws IOException {
        if (hdfs == null) {
            hdfs = MiniHdfs.start(clusterDir.resolve("hdfs"));
        }
        return hdfs;
    }

    @AfterAll
    static void stopHdfs() {
        if (hdfs != null) {
            hdfs.close();
        }
    }

    /** A small GPT-2 base with GPT-2's tokenizer.json (50,257 ids), an adapter of it, and a text file. */
    private record Inputs(Path model, Path adapter, Path text) {
    }

    private Inputs inputs() throws Exception {
        Path model = tmp.resolve("base");
        CliTest.Run init = cli("init-model", "--family", "gpt2", "--dim", "16", "--layers", "1", "--heads", "2",
                "--ffn", "32", "--vocab", "50257", "--max-seq", "64", "--seed", "5", "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        ShippedTokenizers.install("gpt2", model);
        Path adapter = AdapterFixtures.adapter(model, tmp.resolve("adapter"), 2, 4, 1, "c_attn", "c_proj");
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, TEXT);
        return new Inputs(model, adapter, text);
    }

    @Test
    void hdfsInputsAndOutputsMatchTheLocalRun() throws Exception {
        Inputs in = inputs();
        FileSystem fs = FileSystem.get(hdfs().uri(), hdfs().configuration());
        String h = hdfs().uri("uris/").toString();
        for (Path p : new Path[] {in.model(), in.adapter(), in.text()}) {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(p.toUri()),
                    new org.apache.hadoop.fs.Path(h + p.getFileName()));
        }

        String localScore = ok(cli("score", "--model", in.model().toString(), "--adapter", in.adapter().toString(),
                "--text-file", in.text().toString(), "--seq", "16"));
        assertEquals(localScore, ok(cli("score", "--model", h + "base", "--adapter", h + "adapter", "--text-file",
                h + "t.txt", "--seq", "16")));
        assertNotEquals(localScore, ok(cli("score", "--model", h + "base", "--text-file", h + "t.txt", "--seq",
                "16")), "the adapter read from HDFS is applied");
        // paths without a scheme resolve against fs.defaultFS, set as spark-submit passes it (spark.hadoop.*)
        System.setProperty("spark.hadoop.fs.defaultFS", hdfs().uri().toString());
        try {
            assertEquals(localScore, ok(cli("score", "--model", "/uris/base", "--adapter", "/uris/adapter",
                    "--text-file", "/uris/t.txt", "--seq", "16")));
        } finally {
            System.clearProperty("spark.hadoop.fs.defaultFS");
        }

        String localTokens = ok(cli("generate", "--model", in.model().toString(), "--adapter",
                in.adapter().toString(), "--prompt", "Zwölf ", "--max-new-tokens", "12"));
        assertEquals(localTokens, ok(cli("generate", "--model", h + "base", "--adapter", h + "adapter", "--prompt",
                "Zwölf ", "--max-new-tokens", "12")));

        ok(cli("merge", "--model", in.model().toString(), "--adapter", in.adapter().toString(), "--out",
                tmp.resolve("merged").toString()));
        ok(cli("merge", "--model", h + "base", "--adapter", h + "adapter", "--out", h + "out/merged"));
        Map<String, byte[]> merged = files(tmp.resolve("merged"));
        assertTrue(merged.containsKey("tokenizer.json"), "the base's tokenizer is copied along: " + merged.keySet());
        assertFilesEqual(merged, files(fetch(fs, h + "out/merged", tmp.resolve("hdfs-merged"))));

        String[] train = {"--steps", "3", "--batch", "2", "--seq", "16", "--seed", "7"};
        ok(cli(concat(new String[] {"pretrain", "--model", in.model().toString(), "--data", in.text().toString(),
                "--out", tmp.resolve("pretrained").toString()}, train)));
        ok(cli(concat(new String[] {"pretrain", "--model", h + "base", "--data", h + "t.txt", "--out",
                h + "out/pretrained"}, train)));
        Map<String, byte[]> local = files(tmp.resolve("pretrained"));
        Map<String, byte[]> remote = files(fetch(fs, h + "out/pretrained", tmp.resolve("hdfs-pretrained")));
        JsonNode localRecord = new ObjectMapper().readTree(local.remove(PretrainCommand.TRAINING_JSON));
        JsonNode remoteRecord = new ObjectMapper().readTree(remote.remove(PretrainCommand.TRAINING_JSON));
        assertFilesEqual(local, remote);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(in.model().resolve("model.safetensors")),
                local.get("model.safetensors")), "pretrain changed the weights");
        for (String field : new String[] {"base_model", "data_source"}) {
            assertEquals(localRecord.get(field).get("sha256"), remoteRecord.get(field).get("sha256"), field);
        }
        assertEquals(h + "base", remoteRecord.get("base_model").get("path").asText());
        assertEquals(h + "t.txt", remoteRecord.get("data_source").get("path").asText());
        assertEquals(localRecord.get("train_history"), remoteRecord.get("train_history"));
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(h + "out"))) {
            assertFalse(st.getPath().getName().startsWith("."), "no temporary directory left: " + st);
        }
    }

    @Test
    void fileUrisMatchPlainPaths() throws Exception {
        Inputs in = inputs();
        String m = in.model().toUri().toString();
        String a = in.adapter().toUri().toString();
        String t = in.text().toUri().toString();
        assertTrue(m.startsWith("file:/"), m);
        assertEquals(ok(cli("score", "--model", in.model().toString(), "--adapter", in.adapter().toString(),
                "--text-file", in.text().toString())), ok(cli("score", "--model", m, "--adapter", a, "--text-file", t)));
        assertEquals(ok(cli("generate", "--model", in.model().toString(), "--prompt", "Zwölf ", "--max-new-tokens",
                "8")), ok(cli("generate", "--model", m, "--prompt", "Zwölf ", "--max-new-tokens", "8")));
        ok(cli("merge", "--model", in.model().toString(), "--adapter", in.adapter().toString(), "--out",
                tmp.resolve("merged").toString()));
        ok(cli("merge", "--model", m, "--adapter", a, "--out", tmp.resolve("out/merged").toUri().toString()));
        assertFilesEqual(files(tmp.resolve("merged")), files(tmp.resolve("out/merged")));
        String[] train = {"--steps", "2", "--batch", "2", "--seq", "16"};
        ok(cli(concat(new String[] {"pretrain", "--model", in.model().toString(), "--data", in.text().toString(),
                "--out", tmp.resolve("pretrained").toString()}, train)));
        ok(cli(concat(new String[] {"pretrain", "--model", m, "--data", t, "--out",
                tmp.resolve("out/pretrained").toUri().toString()}, train)));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("pretrained/model.safetensors")),
                Files.readAllBytes(tmp.resolve("out/pretrained/model.safetensors")));
        try (Stream<Path> s = Files.list(tmp.resolve("out"))) {
            assertEquals(2, s.count(), "no temporary directory left behind");
        }
    }

    @Test
    void missingInputsAndFailedOutputsNameTheUri() throws Exception {
        Inputs in = inputs();
        FileSystem fs = FileSystem.get(hdfs().uri(), hdfs().configuration());
        String h = hdfs().uri("missing/").toString();
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(in.model().toUri()), new org.apache.hadoop.fs.Path(h + "base"));
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(in.adapter().toUri()),
                new org.apache.hadoop.fs.Path(h + "half"));
        fs.delete(new org.apache.hadoop.fs.Path(h + "half/adapter_config.json"), false);
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(in.text().toUri()), new org.apache.hadoop.fs.Path(h + "t.txt"));

        fails(cli("score", "--model", h + "base", "--text-file", h + "nope.txt"),
                "Cannot read text file " + h + "nope.txt: no such file");
        fails(cli("score", "--model", h + "absent", "--text-file", h + "t.txt"),
                "Cannot load base model " + h + "absent: no such directory");
        fails(cli("score", "--model", h + "base", "--adapter", h + "nope", "--text-file", h + "t.txt"),
                "Cannot read adapter " + h + "nope: no such directory");
        fails(cli("generate", "--model", h + "base", "--adapter", h + "half", "--prompt", "x"),
                "Cannot read adapter " + h + "half: adapter_config.json is missing");
        fails(cli("pretrain", "--model", h + "base", "--data", h + "nope.jsonl", "--steps", "1", "--out",
                h + "never"), "Cannot read data " + h + "nope.jsonl: no such file");
        fails(cli("merge", "--model", h + "base", "--adapter", h + "half", "--out", h + "never"),
                "Cannot read adapter " + h + "half: adapter_config.json is missing");
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(h + "never")));

        // a write that fails midway (an HDFS space quota below the weights' size): nothing appears under --out's parent
        org.apache.hadoop.fs.Path full = new org.apache.hadoop.fs.Path(h + "full");
        fs.mkdirs(full);
        ((DistributedFileSystem) fs).setQuota(full, HdfsConstants.QUOTA_DONT_SET, 64 * 1024);
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(in.adapter().toUri()),
                new org.apache.hadoop.fs.Path(h + "adapter"));
        CliTest.Run quota = cli("merge", "--model", h + "base", "--adapter", h + "adapter", "--out", h + "full/merged");
        fails(quota, "Cannot write merged model to " + h + "full/merged: ");
        assertEquals(0, fs.listStatus(full).length, "no partial or temporary output: " + quota.err());
    }

    private static String ok(CliTest.Run run) {
        assertEquals(0, run.status(), run.err());
        return run.out();
    }

    private static void fails(CliTest.Run run, String message) {
        assertEquals(1, run.status(), run.out());
        assertTrue(run.err().contains(message), run.err());
    }

    private static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    private static Path fetch(FileSystem fs, String dir, Path local) throws IOException {
        fs.copyToLocalFile(false, new org.apache.hadoop.fs.Path(dir), new org.apache.hadoop.fs.Path(local.toUri()),
                true);
        return local;
    }

    /** Every file of a directory by name, its bytes. */
    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static void assertFilesEqual(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((name, bytes) -> assertArrayEquals(bytes, actual.get(name), name));
    }
}
