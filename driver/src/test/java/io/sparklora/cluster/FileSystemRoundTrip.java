package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The checks both storage harness self-tests make through the Hadoop FileSystem API. */
final class FileSystemRoundTrip {
    private FileSystemRoundTrip() {
    }

    /**
     * Writes a 300 kB file (several HDFS packets, one S3 PUT) and a small one under {@code dir}, lists them, reads them
     * back byte for byte, renames one, and deletes the directory; asserts each step's result.
     */
    static void check(URI dir, Configuration conf) throws IOException {
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31 + (i >>> 9));
        }
        byte[] small = "{\"ok\": true}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (FileSystem fs = FileSystem.newInstance(dir, conf)) {
            Path root = new Path(dir);
            Path bigFile = new Path(root, "a/big.bin");
            Path smallFile = new Path(root, "a/small.json");
            write(fs, bigFile, big);
            write(fs, smallFile, small);

            FileStatus[] listed = fs.listStatus(new Path(root, "a"));
            List<String> names = Arrays.stream(listed).map(s -> s.getPath().getName()).sorted().toList();
            assertEquals(List.of("big.bin", "small.json"), names);
            assertEquals(big.length, fs.getFileStatus(bigFile).getLen());
            assertArrayEquals(big, read(fs, bigFile));
            assertArrayEquals(small, read(fs, smallFile));

            Path renamed = new Path(root, "b/small.json");
            fs.mkdirs(renamed.getParent());
            assertTrue(fs.rename(smallFile, renamed), "rename " + smallFile + " -> " + renamed);
            assertFalse(fs.exists(smallFile));
            assertArrayEquals(small, read(fs, renamed));

            assertTrue(fs.delete(root, true));
            assertThrows(FileNotFoundException.class, () -> fs.getFileStatus(bigFile));
        }
    }

    static void write(FileSystem fs, Path file, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(file, false)) {
            out.write(bytes);
        }
    }

    static byte[] read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }
}
