package io.sparklora.cli;

import io.sparklora.cluster.MiniHdfs;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's knobs with every input and output on a real HDFS (MiniDFSCluster), reached by its {@code hdfs://} URIs:
 * {@code sweep --full}, {@code train --tree} and {@code train --rank auto}, checked by {@link KnobsOnStore}.
 */
@Tag("slow")
class KnobsHdfsTest {
    @TempDir
    Path tmp;

    @Test
    void sweepTreeAndRankSearchReadAndWriteHdfs() throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            FileSystem fs = FileSystem.get(hdfs.uri(), hdfs.configuration());
            KnobsOnStore.sweepTreeAndRankSearch(tmp, fs, hdfs::uri);
        }
    }
}
