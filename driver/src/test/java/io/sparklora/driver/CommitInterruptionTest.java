package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.cluster.DyingFileSystem;
import io.sparklora.cluster.MiniHdfs;
import io.sparklora.cluster.S3Endpoint;
import io.sparklora.job.Fingerprint;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An adapter's commit killed before each of its changes to the store (each file, each delete, each rename, the
 * marker), on a real HDFS (MiniDFSCluster: commit directory renamed into place) and a real S3 endpoint (S3Proxy:
 * files at their final keys, marker last), replacing an adapter of another fingerprint. After each kill a reader sees the old adapter whole, the new one whole, or none: never FOREIGN (which
 * would block the re-run), never a marker whose files differ from it. The re-run (commit, then the driver's removal of
 * abandoned directories) leaves exactly the new adapter's four files and nothing else in {@code adapters/}.
 */
@Tag("slow")
class CommitInterruptionTest {
    static final Fingerprint OLD = AdapterStoreTest.F1;
    static final Fingerprint NEW = AdapterStoreTest.F2;

    @AfterEach
    void disarm() {
        DyingFileSystem.disarm();
    }

    @Test
    void aCommitKilledAtAnyPointOnHdfsIsNeverSeenPartialAndTheReRunRepairsIt(@TempDir java.nio.file.Path tmp)
            throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            Configuration conf = hdfs.configuration();
            List<String> changes = killAtEveryPoint(hdfs.uri("runs/a").toString(), conf,
                    DyingFileSystem.installed(conf, "hdfs", DistributedFileSystem.class));
            // temporary dir cleared and made, four files, old adapter aside, new one in place, both dirs deleted
            assertEquals(10, changes.size(), changes.toString());
            assertTrue(changes.get(6).startsWith("rename ") && changes.get(6).endsWith("/adapters/en"),
                    changes.toString());
        }
    }

    @Test
    void aCommitKilledAtAnyPointOnS3IsNeverSeenPartialAndTheReRunRepairsIt() throws Exception {
        String bucket = "spark-lora-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3Endpoint s3 = S3Endpoint.start(bucket)) {
            Configuration conf = s3.configuration();
            List<String> changes = killAtEveryPoint(s3.uri("runs/a").toString(), conf,
                    DyingFileSystem.installed(conf, "s3a", S3AFileSystem.class));
            // old marker deleted, _writing.json, the directory, three files, _writing.json deleted, the marker
            assertEquals(8, changes.size(), changes.toString());
            assertTrue(changes.get(7).endsWith("/adapters/en/" + AdapterStore.MARKER), changes.toString());
        }
    }

    /**
     * Every kill point of a commit replacing an adapter of another fingerprint (a superset of a new adapter's: the
     * same changes plus moving the old one aside); returns the changes a whole commit makes.
     */
    private static List<String> killAtEveryPoint(String out, Configuration conf, Configuration dying)
            throws IOException {
        AdapterStore reader = new AdapterStore(out, conf);
        for (int k = 0; ; k++) {
            reader.fs().delete(new Path(out), true);
            assertTrue(reader.commit("en", "old", AdapterStoreTest.adapter(1), "base", json("{}"), OLD));
            Map<String, String> oldSha = reader.marker("en").sha256();
            DyingFileSystem.arm(k);
            AdapterStore killed = new AdapterStore(out, dying);
            try {
                killed.commit("en", "a" + k, AdapterStoreTest.adapter(2), "base", json("{\"k\":" + k + "}"),
                        NEW);
            } catch (IOException expectedWhenKilled) {
                assertTrue(DyingFileSystem.dead(), expectedWhenKilled.toString());
            }
            boolean died = DyingFileSystem.dead();
            List<String> changes = DyingFileSystem.disarm();
            String where = "killed before change " + k + " of " + changes;
            assertSeenWhole(reader, oldSha, where, died);

            // The re-run: this fingerprint's commit, then the driver's clean-up after its stage.
            reader.commit("en", "rerun", AdapterStoreTest.adapter(2), "base", json("{}"), NEW);
            reader.removeAbandoned();
            assertTrue(reader.isCommitted("en", NEW), where);
            assertEquals(List.of("en"), names(reader.fs(), new Path(out, "adapters")), where);
            assertEquals(List.of(AdapterStore.MARKER, AdapterStore.CONFIG_JSON, "adapter_model.safetensors",
                    AdapterStore.TRAINING_JSON), names(reader.fs(), reader.dir("en")), where);
            assertIdentityMatchesMarker(reader, where);
            if (!died) {
                return changes;
            }
        }
    }

    /** What a reader sees after the kill: nothing, a leftover of ours, or a whole adapter (old or new). */
    private static void assertSeenWhole(AdapterStore reader, Map<String, String> oldSha, String where, boolean died)
            throws IOException {
        AdapterStore.State state = reader.state("en");
        assertNotEquals(AdapterStore.State.FOREIGN, state, where);
        if (state == AdapterStore.State.COMMITTED) {
            AdapterStore.Marker m = reader.marker("en");
            assertTrue(m.fingerprint().equals(NEW) || m.fingerprint().equals(OLD), where);
            if (m.fingerprint().equals(OLD)) {
                assertEquals(oldSha, m.sha256(), where);
            }
            assertIdentityMatchesMarker(reader, where);
        } else {
            assertTrue(died, "a commit that was not killed committed: " + where);
        }
    }

    private static void assertIdentityMatchesMarker(AdapterStore reader, String where) throws IOException {
        AdapterStore.Marker m = reader.marker("en");
        for (String f : AdapterStore.IDENTITY_FILES) {
            try (InputStream in = reader.fs().open(new Path(reader.dir("en"), f))) {
                assertEquals(m.sha256().get(f), Fingerprint.sha256(in.readAllBytes()), where + ": " + f);
            }
        }
    }

    private static List<String> names(FileSystem fs, Path dir) throws IOException {
        List<String> n = new ArrayList<>(Arrays.stream(fs.listStatus(dir)).map(s -> s.getPath().getName()).toList());
        n.sort(null);
        return n;
    }

    private static byte[] json(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
