package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.safetensors.SafeTensorsReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Process-level faults on the shared standalone cluster ({@link SharedCluster}; executors are separate JVMs): an
 * executor killed with SIGKILL between two checkpoints (of a single adapter, and of a fused group), and a straggler
 * outrun by a speculative copy. Either way the
 * job ends with exit 0 and exactly the undisturbed run's adapters ({@link FourKeys}), byte for byte. The test hook
 * {@value SparkTrainJob#SLOW_AFTER_STEP} makes attempt 0 of chosen adapters sleep after each step, which gives the
 * test the moment to act and logs each pause with the executor's pid.
 */
@Tag("slow")
class ClusterFaultTest {
    private static final Pattern SLOWED = Pattern.compile(
            "Test hook: slowing adapter (\\S+) \\(attempt 0, pid (\\d+)\\) after step (\\d+)");

    @TempDir
    Path tmp;

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    /**
     * Attempt 0 of every adapter pauses after step 4 (its checkpoint is at step 3); the first executor to pause is
     * killed with SIGKILL. Its adapter's next attempt resumes from step 3 and replays step 4 on a surviving or
     * relaunched executor; the job finishes and every adapter's weights are the reference's bytes.
     */
    @Test
    void anExecutorKilledBetweenTwoCheckpointsIsReplayedToTheSameAdapters() throws Exception {
        FourKeys job = FourKeys.get();
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlier = cluster.executorLogs();
        Path out = tmp.resolve("out");
        Map<String, String> settings = new HashMap<>(cluster.sparkSettings());
        settings.put(SparkTrainJob.SLOW_AFTER_STEP, "*:4:1000");
        CompletableFuture<CliCapture.Run> run = CompletableFuture.supplyAsync(() -> CliCapture.run(settings,
                job.trainArgs(cluster.masterUrl(), job.rows().toUri(), out.toUri()).toArray(String[]::new)));

        String victim = killFirstPausedExecutor(cluster, earlier, run);

        CliCapture.Run result = run.get();
        assertEquals(0, result.status(), result.err() + "\n" + cluster.logTails());
        JsonNode manifest = TrainOutputCheck.verify(out.toUri(), new Configuration(), job.config(), FourKeys.KEYS,
                FourKeys.RANK, FourKeys.STEPS, tmp.resolve("read-back"));
        ClusterTrainTest.assertSameAdapters(job.reference(), manifest);
        JsonNode training = trainingJson(out, victim);
        assertEquals(3, training.path("resumed_from_step").asInt(), "the killed adapter resumed from its "
                + "checkpoint at step 3 and replayed step 4: " + training);
    }

    /**
     * Waits for the first executor to log that it paused ({@link #SLOWED}), kills that executor's JVM with SIGKILL and
     * waits for it to exit; returns the paused adapter's name.
     */
    private static String killFirstPausedExecutor(StandaloneCluster cluster, List<Path> earlier,
                                                  CompletableFuture<CliCapture.Run> run) throws Exception {
        Matcher paused = LogWatch.await(() -> cluster.executorLogsAfter(earlier), SLOWED, Duration.ofSeconds(120),
                run);
        long pid = Long.parseLong(paused.group(2));
        assertTrue(cluster.executorPids().contains(pid), "pid " + pid + " is an executor of the cluster");
        ProcessHandle executor = ProcessHandle.of(pid).orElseThrow();
        assertTrue(executor.destroyForcibly(), "SIGKILL to executor " + pid); // SIGKILL on Unix
        executor.onExit().get();
        return paused.group(1);
    }

    /**
     * The same kill during a fused group ({@code --adapters-per-task 2}: two tasks of one group of two): attempt 0 of
     * every member pauses after step 4 (the members' checkpoints are at step 3). The killed group's next attempt
     * resumes both members from step 3, fused again; the job finishes and every adapter is within 1e-6 of the
     * reference, which trained each one alone (K = 1).
     */
    @Test
    void anExecutorKilledDuringAFusedGroupResumesTheGroupFromItsCheckpoint() throws Exception {
        FourKeys job = FourKeys.get();
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlier = cluster.executorLogs();
        Path out = tmp.resolve("out");
        Map<String, String> settings = new HashMap<>(cluster.sparkSettings());
        settings.put(SparkTrainJob.SLOW_AFTER_STEP, "*:4:1000");
        List<String> args = new java.util.ArrayList<>(job.trainArgs(cluster.masterUrl(), job.rows().toUri(),
                out.toUri()));
        args.addAll(List.of("--adapters-per-task", "2"));
        CompletableFuture<CliCapture.Run> run = CompletableFuture.supplyAsync(() -> CliCapture.run(settings,
                args.toArray(String[]::new)));

        String victim = killFirstPausedExecutor(cluster, earlier, run);

        CliCapture.Run result = run.get();
        assertEquals(0, result.status(), result.err() + "\n" + cluster.logTails());
        TrainOutputCheck.verify(out.toUri(), new Configuration(), job.config(), FourKeys.KEYS, FourKeys.RANK,
                FourKeys.STEPS, tmp.resolve("read-back"));
        JsonNode killed = trainingJson(out, victim);
        assertEquals(1, killed.path("fused_with").size(), "trained fused: " + killed);
        String partner = killed.path("fused_with").get(0).asText();
        for (String name : List.of(victim, partner)) {
            JsonNode t = trainingJson(out, name);
            assertEquals(3, t.path("resumed_from_step").asInt(), "both members resumed from their checkpoints at "
                    + "step 3 and replayed step 4, fused: " + t);
            assertEquals(1, t.path("fused_with").size(), t.toString());
        }
        Path reference = job.model().getParent().resolve("reference").resolve("adapters");
        for (String name : FourKeys.KEYS) {
            try (SafeTensorsReader want = SafeTensorsReader.open(reference.resolve(name)
                    .resolve("adapter_model.safetensors"));
                 SafeTensorsReader got = SafeTensorsReader.open(out.resolve("adapters").resolve(name)
                         .resolve("adapter_model.safetensors"))) {
                assertEquals(want.names(), got.names(), name);
                for (String t : want.names()) {
                    float[] w = want.read(t).toArray();
                    float[] g = got.read(t).toArray();
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(w[i], g[i], 1e-6, name + " " + t + "[" + i + "]");
                    }
                }
            }
        }
    }

    /**
     * {@code spark.speculation} on, attempt 0 of {@code gamma} a straggler (3 s after each step): Spark launches a
     * copy on the other Worker's host, the copy commits, and Spark kills the straggler, which stops within the step
     * it was in (its log: paused after step k, stopped before step k + 1). One adapter per key, files as the manifest
     * says, the reference's bytes.
     */
    @Test
    void aSpeculativeCopyCommitsAndTheStragglerStopsWithinAStep() throws Exception {
        FourKeys job = FourKeys.get();
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlier = cluster.executorLogs();
        Path out = tmp.resolve("out");
        Map<String, String> settings = new HashMap<>(cluster.sparkSettings());
        settings.put(SparkTrainJob.SLOW_AFTER_STEP, "gamma:1:3000");
        settings.put("spark.speculation", "true");
        settings.put("spark.speculation.interval", "200ms");
        settings.put("spark.speculation.multiplier", "2");
        settings.put("spark.speculation.quantile", "0.5");
        settings.put("spark.speculation.efficiency.enabled", "false"); // judge by run time alone
        settings.put("spark.locality.wait", "0s");
        CliCapture.Run result = CliCapture.run(settings,
                job.trainArgs(cluster.masterUrl(), job.rows().toUri(), out.toUri()).toArray(String[]::new));
        assertEquals(0, result.status(), result.err() + "\n" + cluster.logTails());
        JsonNode manifest = TrainOutputCheck.verify(out.toUri(), new Configuration(), job.config(), FourKeys.KEYS,
                FourKeys.RANK, FourKeys.STEPS, tmp.resolve("read-back"));
        ClusterTrainTest.assertSameAdapters(job.reference(), manifest);
        assertTrue(trainingJson(out, "gamma").path("attempt").asInt() >= 1,
                "the speculative copy committed gamma: " + trainingJson(out, "gamma"));

        Pattern stopped = Pattern.compile(
                "Training of adapter gamma stopped before step (\\d+) of 6: the task was interrupted");
        // Spark kills the straggler as the copy's result arrives; its log line may come a moment after the job ends.
        LogWatch.await(() -> cluster.executorLogsAfter(earlier), stopped, Duration.ofSeconds(20),
                new CompletableFuture<>());
        List<Path> logs = cluster.executorLogsAfter(earlier);
        List<String> stops = LogWatch.all(logs, stopped);
        assertEquals(1, stops.size(), "the straggler logged its stop once\n" + ExecutorLogs.describe(
                ExecutorLogs.of(logs, FourKeys.STEPS)));
        List<String> pausedAfter = LogWatch.all(logs, Pattern.compile(
                "Test hook: slowing adapter gamma \\(attempt 0, pid \\d+\\) after step (\\d+)"));
        int lastPause = Integer.parseInt(pausedAfter.get(pausedAfter.size() - 1));
        assertEquals(lastPause + 1, Integer.parseInt(stops.get(0)),
                "killed while paused after step " + lastPause + ", it ran no further step");
        assertTrue(lastPause < FourKeys.STEPS, "the straggler was stopped before its end");
    }

    static JsonNode trainingJson(Path out, String adapter) throws java.io.IOException {
        return new ObjectMapper().readTree(out.resolve("adapters").resolve(adapter).resolve("training.json")
                .toFile());
    }
}
