package io.sparklora.cli;

import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Whole input files of the local commands ({@code score --text-file}, {@code pretrain --data}) from a local path or
 * any Hadoop URI ({@code file://}, {@code hdfs://}, {@code s3a://}; no scheme: {@code fs.defaultFS}), as {@code train}
 * takes its inputs.
 */
final class UriFiles {
    private UriFiles() {
    }

    /** The bytes of the file at {@code uri}; "Cannot read {@code what} URI: no such file" when it is not a file. */
    static byte[] read(String uri, Configuration conf, String what) throws IOException {
        Path file = new Path(uri);
        FileSystem fs = file.getFileSystem(conf);
        FileStatus st;
        try {
            st = fs.getFileStatus(file);
        } catch (java.io.FileNotFoundException e) {
            st = null;
        }
        if (st == null || !st.isFile()) {
            throw new IOException("Cannot read " + what + " " + uri + ": no such file");
        }
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }
}
