package io.sparklora.driver;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A local file onto any Hadoop file system as one {@code create} and stream, the way every other spark-lora file is
 * written: S3A's {@code copyFromLocalFile} takes another upload path whose checksum header some S3-compatible stores
 * (S3Proxy) reject.
 */
public final class LocalUploads {
    private LocalUploads() {
    }

    public static void put(FileSystem fs, java.nio.file.Path local, Path target) throws IOException {
        try (OutputStream out = fs.create(target, true)) {
            Files.copy(local, out);
        }
    }
}
