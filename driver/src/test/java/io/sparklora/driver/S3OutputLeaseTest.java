package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.cluster.S3Endpoint;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The output lease on a real S3 endpoint (S3Proxy through {@code s3a://}), where hadoop-aws has no conditional PUT
 * and {@link OutputLease} uses its documented equivalent (absence check, PUT, settle, read back): a second job fails
 * naming the holder, of jobs racing for a fresh output exactly one holds it, renewals keep one readable lease, and
 * the holder's close removes it.
 */
@Tag("slow")
class S3OutputLeaseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode read(FileSystem fs, Path file) throws Exception {
        try (InputStream in = fs.open(file)) {
            return JSON.readTree(in);
        }
    }

    @Test
    void oneJobHoldsAnS3OutputAndTheOthersAreRefusedNamingIt() throws Exception {
        String bucket = "spark-lora-lease-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3Endpoint s3 = S3Endpoint.start(bucket)) {
            Path out = new Path(s3.uri("runs/leased"));
            FileSystem fs = out.getFileSystem(s3.configuration());
            Path file = new Path(out, OutputLease.FILE);
            try (OutputLease lease = OutputLease.acquire(fs, out, 60)) {
                JsonNode held = read(fs, file);
                assertEquals(ProcessHandle.current().pid(), held.path("pid").asLong());
                IllegalArgumentException second = assertThrows(IllegalArgumentException.class,
                        () -> OutputLease.acquire(fs, out, 60));
                assertTrue(second.getMessage().startsWith("Cannot train into " + out + ": another spark-lora job "
                        + "holds it (host " + held.path("host").asText() + ", pid " + held.path("pid").asText()),
                        second.getMessage());
                lease.renew();
                JsonNode renewed = read(fs, file);
                assertEquals(held.path("token").asText(), renewed.path("token").asText(), "still ours");
                lease.checkHeld();
            }
            assertFalse(fs.exists(file), "close removes the lease");

            // Three jobs race for a fresh output: exactly one takes it, the others are refused naming it.
            Path fresh = new Path(s3.uri("runs/raced"));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<OutputLease>> racers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    racers.add(pool.submit((Callable<OutputLease>) () -> OutputLease.acquire(fs, fresh, 60)));
                }
                List<OutputLease> won = new ArrayList<>();
                List<String> refused = new ArrayList<>();
                for (Future<OutputLease> f : racers) {
                    try {
                        won.add(f.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        refused.add(e.getCause().getMessage());
                    }
                }
                assertEquals(1, won.size(), "refused: " + refused);
                for (String r : refused) {
                    assertTrue(r.startsWith("Cannot train into " + fresh + ": another "), r); // holds it / took it
                }
                won.get(0).checkHeld();
                won.get(0).close();
                assertFalse(fs.exists(new Path(fresh, OutputLease.FILE)));
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
