package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.driver.SparkTrainJob;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the driver process itself: {@code train} runs in a JVM of its own ({@link ChildCli}, {@code local[2]}),
 * a second job in this JVM targets the same {@code --out} while it runs, or the child is killed with SIGKILL in the
 * middle of training and the same command is run again. The adapters are compared with the undisturbed reference run
 * ({@link FourKeys}) byte for byte.
 */
@Tag("slow")
class DriverProcessFaultTest {
    private static final Pattern PAUSED = Pattern.compile(
            "Test hook: slowing adapter (\\S+) \\(attempt 0, pid \\d+\\) after step 4");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private Process child;

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    @AfterEach
    void killChild() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor();
        }
    }

    /**
     * Two processes, one {@code --out}: while the child's job holds the lease, a job started here fails at once with
     * exit 1 naming the child (host and pid) and writes nothing; the child's job then finishes with the reference's
     * adapters.
     */
    @Test
    void aSecondJobFailsFastNamingTheOtherProcessAndTheFirstFinishesIntact() throws Exception {
        FourKeys job = FourKeys.get();
        Path out = tmp.resolve("out");
        List<String> args = job.trainArgs("local[2]", job.rows().toUri(), out.toUri());
        Path log = tmp.resolve("first.log");
        // alpha sleeps 3 s after each of its steps from step 1 on, so the first job holds its lease for at least 15 s
        // after the pause is seen, however slowly the second job starts (with 400 ms for every adapter, a loaded CI
        // machine once let the first job finish and release the lease before the second looked)
        child = ChildCli.start(Map.of(SparkTrainJob.SLOW_AFTER_STEP, "alpha:1:3000"), log, args);
        Path leaseFile = out.resolve("_lease.json");
        LogWatch.await(() -> List.of(log), PAUSED_ANY, Duration.ofSeconds(180), child.onExit());
        JsonNode held = JSON.readTree(leaseFile.toFile());
        assertEquals(child.pid(), held.path("pid").asLong(), held.toString());

        long t0 = System.nanoTime();
        CliCapture.Run second = CliCapture.run(Map.of(), args.toArray(String[]::new));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(child.isAlive(), "the first job still runs: the second did not wait for it");
        assertEquals(1, second.status(), second.out() + second.err());
        assertTrue(second.err().contains(": another spark-lora job holds it (host "
                + InetAddress.getLocalHost().getHostName() + ", pid " + child.pid() + ", "), second.err());
        assertTrue(seconds < 60, "failed fast: " + seconds + " s");

        assertTrue(child.waitFor(180, TimeUnit.SECONDS), "the first job ends");
        assertEquals(0, child.exitValue(), LogWatch.read(log));
        JsonNode manifest = TrainOutputCheck.verify(out.toUri(), new Configuration(), job.config(), FourKeys.KEYS,
                FourKeys.RANK, FourKeys.STEPS, tmp.resolve("read-back"));
        ClusterTrainTest.assertSameAdapters(job.reference(), manifest);
        assertTrue(Files.notExists(leaseFile), "the lease is released");
    }

    /**
     * The driver JVM killed with SIGKILL after step 4 of some adapter (its checkpoint at step 3): it leaves its lease,
     * checkpoints and no manifest. The same command run again (with an hour's lease timeout) takes over the dead process's lease at once, resumes
     * the interrupted adapters from step 3, and ends with exit 0 and the reference's adapters.
     */
    @Test
    void theDriverKilledMidTrainingThenTheSameCommandAgainGivesTheSameAdapters() throws Exception {
        FourKeys job = FourKeys.get();
        Path out = tmp.resolve("out");
        List<String> args = job.trainArgs("local[2]", job.rows().toUri(), out.toUri());
        Path log = tmp.resolve("killed.log");
        child = ChildCli.start(Map.of(SparkTrainJob.SLOW_AFTER_STEP, "*:4:60000"), log, args);
        Matcher paused = LogWatch.await(() -> List.of(log), PAUSED, Duration.ofSeconds(180), child.onExit());
        String victim = paused.group(1);
        child.destroyForcibly().waitFor(); // SIGKILL on Unix: no shutdown hook runs
        assertTrue(Files.exists(out.resolve("_lease.json")), "the killed job left its lease");
        assertTrue(Files.notExists(out.resolve("manifest.json")), "and no manifest");

        // An hour's lease timeout: the re-run can proceed only by seeing that the holder's process is gone.
        CliCapture.Run again = CliCapture.run(Map.of(SparkTrainJob.LEASE_TIMEOUT, "3600"),
                args.toArray(String[]::new));
        assertEquals(0, again.status(), again.out() + again.err());
        JsonNode manifest = TrainOutputCheck.verify(out.toUri(), new Configuration(), job.config(), FourKeys.KEYS,
                FourKeys.RANK, FourKeys.STEPS, tmp.resolve("read-back"));
        ClusterTrainTest.assertSameAdapters(job.reference(), manifest);
        JsonNode training = JSON.readTree(out.resolve("adapters").resolve(victim).resolve("training.json").toFile());
        assertEquals(3, training.path("resumed_from_step").asInt(), "resumed from the killed run's checkpoint at "
                + "step 3, step 4 replayed: " + training);
        assertTrue(Files.notExists(out.resolve("_lease.json")));
    }

    private static final Pattern PAUSED_ANY = Pattern.compile("Test hook: slowing adapter \\S+ ");
}
