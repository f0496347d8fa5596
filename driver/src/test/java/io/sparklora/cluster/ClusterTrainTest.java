package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same {@code train} job (a tiny LLaMA, four keys, a few steps) against real infrastructure: writing to
 * {@code hdfs://} on a MiniDFSCluster, to {@code s3a://} on S3Proxy, and submitted to a standalone Spark cluster whose
 * executors are separate processes. Each run's output is read back through the FileSystem API
 * ({@link TrainOutputCheck}), and its adapter weights are byte for byte those of the same job on {@code local[2]}
 * writing to {@code file://}.
 */
@Tag("slow")
class ClusterTrainTest {
    static final Set<String> KEYS = FourKeys.KEYS;
    static final int RANK = FourKeys.RANK;
    static final int STEPS = FourKeys.STEPS;

    static Path model;
    static ModelConfig config;
    static byte[] data;
    static JsonNode reference; // manifest of the same job on local[2] writing to file://

    @TempDir
    Path tmp;

    @BeforeAll
    static void modelAndData() throws Exception {
        FourKeys job = FourKeys.get();
        model = job.model();
        config = job.config();
        data = job.data();
        reference = job.reference();
    }

    /** Checks the output of a run at {@code out} and that its adapters are those of the reference run. */
    void verifyAgainstReference(URI out, Configuration conf) throws IOException {
        assertSameAdaptersAsReference(TrainOutputCheck.verify(out, conf, config, KEYS, RANK, STEPS,
                tmp.resolve("read-back")));
    }

    /**
     * Training is deterministic given the data, the seed and the spec, so each adapter's weights file is the same
     * bytes as in the local reference run, whatever the store, the executors or where the base came from.
     */
    static void assertSameAdaptersAsReference(JsonNode manifest) {
        assertSameAdapters(reference, manifest);
    }

    /** Every adapter of {@code manifest} has the weights (sha256 of the file) of its namesake in {@code reference}. */
    static void assertSameAdapters(JsonNode reference, JsonNode manifest) {
        for (JsonNode a : manifest.path("adapters")) {
            String name = a.path("name").asText();
            JsonNode expected = null;
            for (JsonNode r : reference.path("adapters")) {
                if (r.path("name").asText().equals(name)) {
                    expected = r;
                }
            }
            assertTrue(expected != null, "adapter " + name + " is not in the reference run");
            assertEquals(expected.path("sha256").path("adapter_model.safetensors").asText(),
                    a.path("sha256").path("adapter_model.safetensors").asText(), "weights of " + name);
        }
    }

    /** train's arguments for data at {@code dataUri} and output at {@code outUri}. */
    static List<String> trainArgs(String master, URI dataUri, URI outUri) {
        return FourKeys.get().trainArgs(master, dataUri, outUri);
    }

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    /**
     * HDFS as the default file system ({@code fs.defaultFS}, as on a YARN cluster): {@code --data} and {@code --out}
     * without a scheme are HDFS paths relative to the HDFS home directory ({@code /user/<name>}); the adapters, the
     * manifest and the report all go there, and the summary names the qualified output.
     */
    @Test
    void trainWithHdfsAsTheDefaultFileSystemResolvesSchemeLessPathsThere() throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            URI home = hdfs.uri("user/" + System.getProperty("user.name") + "/");
            put(home.resolve("data/rows.jsonl"), hdfs.configuration(), data);
            List<String> args = new ArrayList<>(trainArgs("local[2]", URI.create("data/rows.jsonl"),
                    URI.create("runs/four-keys")));
            args.set(args.indexOf("--model") + 1, model.toUri().toString()); // the base stays on local disk
            CliCapture.Run run = CliCapture.run(Map.of("spark.hadoop.dfs.replication", "1",
                    "spark.hadoop.fs.defaultFS", hdfs.uri().toString()), args.toArray(String[]::new));
            assertEquals(0, run.status(), run.err());
            URI out = home.resolve("runs/four-keys");
            verifyAgainstReference(out, hdfs.configuration());
            assertTrue(run.out().contains("Manifest: " + out.toString().replaceFirst("/$", "") + "/manifest.json"),
                    run.out());
            try (FileSystem fs = FileSystem.newInstance(out, hdfs.configuration())) {
                assertTrue(fs.exists(new org.apache.hadoop.fs.Path(out.toString(), "report/index.html")),
                        "the report is on HDFS next to the manifest");
            }
            assertTrue(Files.notExists(Path.of("runs", "four-keys")), "nothing went to the local working directory");
        }
    }

    @Test
    void trainWritesAdaptersToS3a() throws Exception {
        // A fresh bucket name per run: Hadoop caches S3A clients per bucket for the JVM's life.
        String bucket = "spark-lora-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3Endpoint s3 = S3Endpoint.start(bucket)) {
            URI dataUri = s3.uri("data/rows.jsonl");
            put(dataUri, s3.configuration(), data);
            URI out = s3.uri("runs/four-keys");
            CliCapture.Run run = CliCapture.run(s3.sparkSettings(),
                    trainArgs("local[2]", dataUri, out).toArray(String[]::new));
            assertEquals(0, run.status(), run.err());
            verifyAgainstReference(out, s3.configuration());
        }
    }

    /**
     * Submitted to a Master with two single-core Workers, data and output on S3: both executors train (their logs
     * show each adapter's last progress line), and each fetches the broadcast once and builds the base model from it
     * once (the executor-side cache logs one "Built base model" line per build), although four adapters ran on two
     * executors.
     */
    @Test
    void trainOnStandaloneClusterBuildsBaseOncePerExecutor() throws Exception {
        // Data and adapters on S3: the executors, separate processes, read and commit through s3a with the
        // endpoint and credentials the driver was given (spark.hadoop.*), as on a real cluster with shared storage.
        String bucket = "spark-lora-" + UUID.randomUUID().toString().substring(0, 8);
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlierLogs = cluster.executorLogs();
        try (S3Endpoint s3 = S3Endpoint.start(bucket)) {
            URI dataUri = s3.uri("data/rows.jsonl");
            put(dataUri, s3.configuration(), data);
            URI out = s3.uri("runs/standalone");
            Map<String, String> settings = new HashMap<>(cluster.sparkSettings());
            settings.putAll(s3.sparkSettings());
            CliCapture.Run run = CliCapture.run(settings,
                    trainArgs(cluster.masterUrl(), dataUri, out).toArray(String[]::new));
            assertEquals(0, run.status(), run.err() + "\n" + cluster.logTails());
            verifyAgainstReference(out, s3.configuration());

            List<ExecutorLogs> logs = ExecutorLogs.of(cluster.executorLogsAfter(earlierLogs), STEPS);
            String described = ExecutorLogs.describe(logs);
            assertOneBasePerExecutor(logs, "broadcast-");
            for (ExecutorLogs l : logs) {
                // The executor that built the base from broadcast N fetched broadcast N exactly once.
                for (String build : l.builds()) {
                    String id = build.substring("broadcast-".length());
                    assertEquals(1, l.broadcastFetches().stream().filter(id::equals).count(),
                            "fetches of broadcast " + id + " in " + l.log() + "\n" + described);
                }
            }
        }
    }

    /**
     * {@code --base-on-executors} on the standalone cluster, everything on HDFS: no broadcast of the base; each
     * executor reads the checkpoint from {@code hdfs://} itself, once, for all the adapters it trains.
     */
    @Test
    void trainOnStandaloneClusterReadsBaseFromHdfsOncePerExecutor() throws Exception {
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlierLogs = cluster.executorLogs();
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            URI modelUri = hdfs.uri("models/tiny-llama");
            for (String f : List.of(Checkpoints.CONFIG, Checkpoints.SAFETENSORS)) {
                put(hdfs.uri("models/tiny-llama/" + f), hdfs.configuration(), Files.readAllBytes(model.resolve(f)));
            }
            URI dataUri = hdfs.uri("data/rows.jsonl");
            put(dataUri, hdfs.configuration(), data);
            URI out = hdfs.uri("runs/standalone");
            List<String> args = new ArrayList<>(trainArgs(cluster.masterUrl(), dataUri, out));
            args.set(args.indexOf("--model") + 1, modelUri.toString());
            args.add("--base-on-executors");
            CliCapture.Run run = CliCapture.run(cluster.sparkSettings(), args.toArray(String[]::new));
            assertEquals(0, run.status(), run.err() + "\n" + cluster.logTails());
            verifyAgainstReference(out, hdfs.configuration());
            assertOneBasePerExecutor(ExecutorLogs.of(cluster.executorLogsAfter(earlierLogs), STEPS),
                    "path-" + modelUri);
        }
    }

    /**
     * Both executors trained, all four adapters between them, and each executor built exactly one base model, whose
     * cache key starts with {@code keyPrefix}: four adapters on two executors, so some executor reused its base.
     */
    static void assertOneBasePerExecutor(List<ExecutorLogs> logs, String keyPrefix) {
        String described = ExecutorLogs.describe(logs);
        List<String> trained = logs.stream().flatMap(l -> l.adaptersFinished().stream()).sorted().toList();
        assertEquals(List.copyOf(new java.util.TreeSet<>(KEYS)), trained, "adapters trained on executors\n"
                + described);
        assertEquals(2, logs.stream().filter(l -> !l.adaptersFinished().isEmpty()).count(),
                "executors that trained\n" + described);
        for (ExecutorLogs l : logs) {
            int expected = l.adaptersFinished().isEmpty() ? 0 : 1;
            assertEquals(expected, l.builds().size(), "base builds in " + l.log() + "\n" + described);
            for (String build : l.builds()) {
                assertTrue(build.startsWith(keyPrefix), build + " does not start with " + keyPrefix);
            }
        }
    }

    static void put(URI file, Configuration conf, byte[] bytes) throws IOException {
        try (FileSystem fs = FileSystem.newInstance(file, conf)) {
            FileSystemRoundTrip.write(fs, new org.apache.hadoop.fs.Path(file), bytes);
        }
    }
}
