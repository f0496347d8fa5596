package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The storage harnesses serve real protocols: files written through Hadoop's FileSystem API read back unchanged. */
@Tag("slow")
class StorageHarnessTest {
    @TempDir
    Path tmp;

    @Test
    void miniHdfsStoresAndServesFiles() throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            URI dir = hdfs.uri("self-test/");
            assertEquals("hdfs", dir.getScheme());
            try (FileSystem fs = FileSystem.newInstance(dir, hdfs.configuration())) {
                assertEquals("org.apache.hadoop.hdfs.DistributedFileSystem", fs.getClass().getName());
            }
            FileSystemRoundTrip.check(dir, hdfs.configuration());
            // The blocks really live in the DataNode's storage under the test's directory.
            assertTrue(java.nio.file.Files.isDirectory(tmp.resolve("hdfs/data")), "DataNode storage under " + tmp);
        }
    }

    @Test
    void s3ProxyServesS3aWithSignedRequests() throws Exception {
        try (S3Endpoint s3 = S3Endpoint.start("harness-self-test")) {
            URI dir = s3.uri("self-test/");
            try (FileSystem fs = FileSystem.newInstance(dir, s3.configuration())) {
                assertEquals("org.apache.hadoop.fs.s3a.S3AFileSystem", fs.getClass().getName());
            }
            FileSystemRoundTrip.check(dir, s3.configuration());

            // Wrong credentials are refused by the endpoint: the signatures are really checked.
            org.apache.hadoop.conf.Configuration bad = s3.configuration();
            bad.set("fs.s3a.secret.key", "not-the-secret");
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> {
                try (FileSystem fs = FileSystem.newInstance(dir, bad)) {
                    FileSystemRoundTrip.write(fs, new org.apache.hadoop.fs.Path(dir.toString() + "x.bin"),
                            new byte[] {1});
                }
            });
            assertTrue(String.valueOf(e.getMessage()).contains("403")
                            || String.valueOf(e.getMessage()).contains("SignatureDoesNotMatch"),
                    e.toString());
        }
    }
}
