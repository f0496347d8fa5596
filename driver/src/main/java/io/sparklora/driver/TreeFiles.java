package io.sparklora.driver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Reads a {@code --tree} file from any Hadoop file system ({@code file://}, {@code hdfs://}, {@code s3a://}). */
public final class TreeFiles {
    /** Tree files are a few nodes; a larger one is not a tree file. */
    static final long MAX_BYTES = 1 << 20;

    private TreeFiles() {
    }

    /** The parsed and structurally checked tree; every failure is "Cannot read tree FILE: …". */
    public static TreeSpec read(String file, Configuration conf) {
        Path p = new Path(file);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.isFile(p)) {
                throw new IllegalArgumentException("Cannot read tree " + file + ": no such file");
            }
            long length = fs.getFileStatus(p).getLen();
            if (length > MAX_BYTES) {
                throw new IllegalArgumentException("Cannot read tree " + file + ": it has " + length
                        + " bytes, more than " + MAX_BYTES + " (a tree file lists nodes)");
            }
            try (InputStream in = fs.open(p)) {
                return TreeSpec.parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read tree " + file + ": " + e.getMessage(), e);
        }
    }
}
