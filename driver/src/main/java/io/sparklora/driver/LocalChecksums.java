package io.sparklora.driver;

import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;

/**
 * Hadoop's {@code file://} file system is a {@link ChecksumFileSystem}: every file it writes gets a {@code .<name>.crc}
 * side file, and every rename and delete touches both. Adapter directories hold a few small files whose SHA-256 the
 * commit marker records, so the side files only double the file operations of each commit (thousands of adapters,
 * thousands of extra files); adapters are written through the raw local file system instead.
 */
final class LocalChecksums {
    private LocalChecksums() {
    }

    /** The raw file system under a checksumming one (the same files, no side files); any other as it is. */
    static FileSystem withoutChecksums(FileSystem fs) {
        return fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    }
}
