package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lease renewal replaces {@code _lease.json} by a temporary file renamed over it: a job reading the lease while the
 * holder renews it (a second job deciding whether it may start) always reads a whole lease, never an empty or partial
 * file, nor no file.
 */
class OutputLeaseRenewalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aReaderDuringRenewalsAlwaysReadsAWholeLease(@TempDir Path out) throws Exception {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path file = out.resolve(OutputLease.FILE);
        try (OutputLease lease = OutputLease.acquire(fs, new org.apache.hadoop.fs.Path(out.toUri()), 60)) {
            String token = JSON.readTree(Files.readAllBytes(file)).path("token").asText();
            long first = JSON.readTree(Files.readAllBytes(file)).path("renewed_at_ms").asLong();
            AtomicBoolean stop = new AtomicBoolean();
            List<String> bad = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
                int reads = 0;
                while (!stop.get()) {
                    try {
                        byte[] bytes = Files.readAllBytes(file);
                        JsonNode n = JSON.readTree(bytes);
                        if (n == null || !n.isObject() || !token.equals(n.path("token").asText())
                                || !n.path("renewed_at_ms").isNumber()) {
                            bad.add(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                        }
                    } catch (Exception e) { // absent, empty or cut-short JSON
                        bad.add(e.toString());
                    }
                    reads++;
                }
                return reads;
            });
            int renewals = 0;
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);
            while (System.nanoTime() < end) {
                lease.renew();
                renewals++;
            }
            stop.set(true);
            int reads = reader.get(30, TimeUnit.SECONDS);
            assertEquals(List.of(), bad.subList(0, Math.min(5, bad.size())), bad.size() + " of " + reads + " reads");
            assertTrue(renewals >= 20 && reads >= 20, renewals + " renewals, " + reads + " reads");
            assertTrue(JSON.readTree(Files.readAllBytes(file)).path("renewed_at_ms").asLong() >= first);
            lease.checkHeld();
        }
        assertTrue(Files.notExists(file));
        try (var s = Files.list(out)) {
            assertEquals(List.of(), s.toList()); // no temporary left beside it
        }
    }
}
