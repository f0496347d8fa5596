package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.storage.HadoopStorage;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job per output: {@code <out>/_lease.json} names its holder (host, process id, process start, job start, last
 * renewal) and is renewed every sixth of its timeout while the job runs, then deleted. A second job fails fast
 * naming the holder, unless the holder is provably gone — same host and its process no longer alive (or a new process
 * under its id) — which is taken over at once, or its lease has missed renewals for the timeout (default
 * {@value #DEFAULT_TIMEOUT_SECONDS} s, Spark conf {@code spark.sparklora.lease.timeoutSeconds}: a holder on another
 * host that died; this compares the holder's clock with ours).
 *
 * <p>Creation is atomic where the store allows it: {@code CREATE_NEW} on a local disk, create-without-overwrite on
 * HDFS (the NameNode refuses a second create). hadoop-aws 3.4.1 has no conditional PUT, so on object stores the
 * documented equivalent is: check absence, PUT, wait {@value #SETTLE_MILLIS} ms, read back, and hold the lease only
 * if it still names us (S3 is strongly consistent; of two racing jobs, the last PUT wins and the other backs off).
 */
final class OutputLease implements AutoCloseable {
    static final String FILE = "_lease.json";
    static final int DEFAULT_TIMEOUT_SECONDS = 60;
    static final int SETTLE_MILLIS = 1500;
    private static final Logger LOG = LoggerFactory.getLogger(OutputLease.class);

    private final FileSystem fs;
    private final Path file;
    private final String token = UUID.randomUUID().toString();
    private final Instant started = Instant.now();
    private final long timeoutMillis;
    private final boolean createdDir;
    private final ScheduledExecutorService renewer;
    private volatile boolean lost;

    private OutputLease(FileSystem fs, Path file, long timeoutMillis) throws IOException {
        this.fs = fs;
        this.file = file;
        this.timeoutMillis = timeoutMillis;
        this.createdDir = !fs.exists(file.getParent());
        this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spark-lora-lease-renewer");
            t.setDaemon(true);
            return t;
        });
    }

    /** Takes the lease on {@code out} or fails with "Cannot train into <out>: …" naming the holder. */
    static OutputLease acquire(FileSystem fs, Path out, double timeoutSeconds) throws IOException {
        if (!(timeoutSeconds > 0)) {
            throw new IllegalArgumentException("Cannot take the lease of " + out + ": its timeout must be > 0 s, got "
                    + timeoutSeconds);
        }
        OutputLease lease = new OutputLease(fs, new Path(out, FILE), Math.round(timeoutSeconds * 1000));
        for (int tries = 0; tries < 2; tries++) {
            if (lease.tryCreate()) {
                long every = Math.max(50, lease.timeoutMillis / 6);
                lease.renewer.scheduleAtFixedRate(lease::renew, every, every, TimeUnit.MILLISECONDS);
                return lease;
            }
            JsonNode holder = lease.readHolder();
            if (holder == null && !fs.exists(lease.file)) {
                continue; // released between our create and our read
            }
            String gone = holder == null ? null : goneReason(holder, lease.timeoutMillis);
            if (gone == null) {
                lease.renewer.shutdownNow();
                throw new IllegalArgumentException("Cannot train into " + out + ": another spark-lora job holds it ("
                        + describe(holder) + "); wait for it to end, or, if it died on another host, re-run after its"
                        + " lease expires (" + lease.timeoutMillis / 1000.0 + " s without renewal)");
            }
            LOG.warn("Taking over the lease of {}: its holder ({}) {}", out, describe(holder), gone);
            fs.delete(lease.file, false);
        }
        lease.renewer.shutdownNow();
        throw new IllegalArgumentException("Cannot train into " + out + ": another job took its lease at the same "
                + "time");
    }

    /** Why the holder is provably gone or expired, or null while it may be alive. */
    static String goneReason(JsonNode h, long timeoutMillis) {
        long pid = h.path("pid").asLong(-1);
        if (h.path("host").asText().equals(host())) {
            var process = ProcessHandle.of(pid);
            String start = process.flatMap(p -> p.info().startInstant()).map(Instant::toString).orElse("");
            if (process.isEmpty() || !process.get().isAlive()) {
                return "is no longer running on this host";
            }
            if (!start.isEmpty() && !h.path("process_start").asText().isEmpty()
                    && !start.equals(h.path("process_start").asText())) {
                return "is no longer running on this host (process " + pid + " is another program now)";
            }
        }
        long age = System.currentTimeMillis() - h.path("renewed_at_ms").asLong(0);
        return age > timeoutMillis ? "has not renewed it for " + age / 1000 + " s" : null;
    }

    private static String describe(JsonNode h) {
        if (h == null) {
            return "unreadable " + FILE;
        }
        return "host " + h.path("host").asText() + ", pid " + h.path("pid").asText() + ", started "
                + h.path("started_at").asText() + ", renewed " + Math.max(0, (System.currentTimeMillis()
                - h.path("renewed_at_ms").asLong(0)) / 1000) + " s ago";
    }

    private boolean tryCreate() throws IOException {
        byte[] bytes = content();
        fs.mkdirs(file.getParent());
        try {
            HadoopStorage.createNew(fs, file, bytes);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
        if (!HadoopStorage.isObjectStore(fs)) {
            return true; // CREATE_NEW locally, the NameNode's create-without-overwrite on HDFS
        }
        try {
            Thread.sleep(SETTLE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while taking the lease " + file, e);
        }
        JsonNode h = readHolder();
        return h != null && token.equals(h.path("token").asText());
    }

    /** One renewal; package-private so a test can drive renewals faster than the schedule. */
    void renew() {
        try {
            JsonNode h = readHolder();
            if (h == null || !token.equals(h.path("token").asText())) {
                lost = true;
                LOG.error("The lease {} is no longer this job's ({}): another job took over", file, describe(h));
                renewer.shutdown();
                return;
            }
            // A temporary file renamed over the lease (one PUT on object stores): an overwriting create would leave
            // the lease absent, or empty, for a moment in which a second job could take it.
            HadoopStorage.writeFile(fs, file, content());
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot renew the lease {}: {}", file, e.getMessage());
        }
    }

    /** Fails when another job took the lease over while this one ran (then this job must not write its manifest). */
    void checkHeld() {
        if (lost) {
            throw new IllegalStateException("Cannot finish the job: its lease " + file + " was taken over by another "
                    + "job");
        }
    }

    @Override
    public void close() {
        renewer.shutdownNow();
        try {
            JsonNode h = readHolder();
            if (h != null && token.equals(h.path("token").asText())) {
                fs.delete(file, false);
            }
            if (createdDir && fs.exists(file.getParent()) && fs.listStatus(file.getParent()).length == 0) {
                fs.delete(file.getParent(), false); // a job refused before writing leaves no empty --out behind
            }
        } catch (IOException e) {
            LOG.warn("Cannot release the lease {}: {}", file, e.getMessage());
        }
    }

    private JsonNode readHolder() throws IOException {
        for (int i = 0; i < 3; i++) {
            try (InputStream in = fs.open(file)) {
                JsonNode n = TrainingRecord.JSON.readTree(in);
                if (n != null && n.isObject()) {
                    return n;
                }
            } catch (java.io.FileNotFoundException e) {
                return null;
            } catch (IOException e) {
                // being rewritten: read again
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return null;
    }

    private byte[] content() throws IOException {
        ObjectNode o = TrainingRecord.JSON.createObjectNode();
        o.put("format_version", 1);
        o.put("host", host());
        o.put("pid", ProcessHandle.current().pid());
        o.put("process_start", ProcessHandle.current().info().startInstant().map(Instant::toString).orElse(""));
        o.put("started_at", started.toString());
        o.put("renewed_at_ms", System.currentTimeMillis());
        o.put("token", token);
        return TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String h = System.getenv("HOSTNAME");
            return h != null ? h : "unknown-host";
        }
    }
}
