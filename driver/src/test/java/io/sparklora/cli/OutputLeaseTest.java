package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.SparkTrainJob;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One job per output: two concurrent {@code train} jobs on one {@code --out} (the second fails fast naming the
 * holder, the first renews its lease and finishes intact), a lease left by a dead process is taken over at once, and
 * a lease of another host is respected until it misses renewals for the (here shortened) timeout.
 */
class OutputLeaseTest {
    private static final double TIMEOUT_SECONDS = 3;
    @TempDir
    static Path shared;

    @BeforeAll
    static void start() throws IOException {
        TrainRerunTest.setUp(shared);
        TrainRerunTest.spark.conf().set(SparkTrainJob.LEASE_TIMEOUT, String.valueOf(TIMEOUT_SECONDS));
    }

    @AfterAll
    static void stop() {
        TrainRerunTest.spark.conf().unset(SparkTrainJob.LEASE_TIMEOUT);
        TrainRerunTest.stop();
    }

    private static String[] train(Path out, String... extra) {
        return TrainRerunTest.train(out, TrainRerunTest.data, extra);
    }

    private static JsonNode lease(Path file) {
        try {
            return TrainCommandTest.JSON.readTree(Files.readString(file));
        } catch (IOException e) { // absent, or being replaced
            return null;
        }
    }

    @Test
    void aSecondJobOnTheSameOutFailsFastWhileTheFirstRenewsAndFinishesIntact(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path file = out.resolve("_lease.json");
        CompletableFuture<CliTest.Run> first = CompletableFuture.supplyAsync(() -> CliTest.cli(train(out,
                "--steps", "300")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode held = null;
        while ((held = lease(file)) == null && !first.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(held != null, "the first job holds a lease while it runs");
        assertEquals(ProcessHandle.current().pid(), held.path("pid").asLong());
        assertEquals(InetAddress.getLocalHost().getHostName(), held.path("host").asText());
        long firstRenewal = held.path("renewed_at_ms").asLong();

        CliTest.Run second = CliTest.cli(train(out, "--rank", "3"));
        assertEquals(1, second.status(), second.out() + second.err());
        assertTrue(second.err().startsWith("Error: Cannot train into file:"), second.err());
        assertTrue(second.err().contains(out + ": another spark-lora job holds it (host "
                + held.path("host").asText() + ", pid " + held.path("pid").asText() + ", started "
                + held.path("started_at").asText() + ", renewed "), second.err());

        JsonNode renewed = null;
        while (!first.isDone() && ((renewed = lease(file)) == null
                || renewed.path("renewed_at_ms").asLong() == firstRenewal)) {
            Thread.sleep(20);
        }
        assertTrue(renewed != null && renewed.path("renewed_at_ms").asLong() > firstRenewal,
                "the lease is renewed while the job runs");
        assertEquals(held.path("token").asText(), renewed.path("token").asText(), "by the same holder");

        CliTest.Run done = first.get(10, TimeUnit.MINUTES);
        assertEquals(0, done.status(), done.out() + done.err());
        assertEquals(3, TrainCommandTest.manifest(out).path("adapters").size());
        TrainCommandTest.manifest(out).path("adapters").forEach(a -> {
            assertEquals("trained", a.path("status").asText(), a.toString());
            assertEquals(2, a.path("rank").asInt(), "the second job changed nothing");
        });
        assertFalse(Files.exists(file), "released at the end");
    }

    @Test
    void aLeaseOfADeadProcessIsTakenOverAtOnceAndOneOfAnotherHostOnlyAfterItsTimeout(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("out");
        Path file = out.resolve("_lease.json");
        TrainRerunTest.ok(train(out));
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        String host = InetAddress.getLocalHost().getHostName();
        Files.writeString(file, "{\"format_version\": 1, \"host\": \"" + host + "\", \"pid\": " + p.pid()
                + ", \"process_start\": \"\", \"started_at\": \"2026-01-01T00:00:00Z\", \"renewed_at_ms\": "
                + System.currentTimeMillis() + ", \"token\": \"dead\"}");
        TrainRerunTest.ok(train(out, "--steps", "6"));
        assertFalse(Files.exists(file), "taken over, then released");
        assertEquals("trained", TrainCommandTest.manifest(out).path("adapters").get(0).path("status").asText());

        String other = "{\"format_version\": 1, \"host\": \"elsewhere\", \"pid\": 1, \"process_start\": \"\", "
                + "\"started_at\": \"2026-01-01T00:00:00Z\", \"token\": \"t\", \"renewed_at_ms\": ";
        Files.writeString(file, other + System.currentTimeMillis() + "}");
        CliTest.Run refused = CliTest.cli(train(out, "--steps", "8"));
        assertEquals(1, refused.status(), refused.out() + refused.err());
        assertTrue(refused.err().contains(": another spark-lora job holds it (host elsewhere, pid 1, started "
                + "2026-01-01T00:00:00Z, renewed 0 s ago)"), refused.err());
        assertTrue(Files.exists(file), "a live holder's lease is left alone");

        Files.writeString(file, other + (System.currentTimeMillis() - (long) (TIMEOUT_SECONDS * 1000) - 1000) + "}");
        TrainRerunTest.ok(train(out, "--steps", "8"));
        assertFalse(Files.exists(file), "an expired lease is taken over, then released");
    }
}
