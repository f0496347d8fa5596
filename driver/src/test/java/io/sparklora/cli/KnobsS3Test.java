package io.sparklora.cli;

import io.sparklora.cluster.S3Endpoint;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's knobs with every input and output on a real S3 endpoint (S3Proxy, signed requests, through hadoop-aws's
 * {@code s3a://}), reached through {@code spark.hadoop.*} system properties as spark-submit passes them:
 * {@code sweep --full}, {@code train --tree} and {@code train --rank auto}, checked by {@link KnobsOnStore}.
 */
@Tag("slow")
class KnobsS3Test {
    @TempDir
    Path tmp;

    @Test
    void sweepTreeAndRankSearchReadAndWriteS3() throws Exception {
        try (S3Endpoint s3 = S3Endpoint.start("knobs")) {
            FileSystem fs = FileSystem.get(s3.uri(""), s3.configuration());
            s3.sparkSettings().forEach(System::setProperty);
            try {
                KnobsOnStore.sweepTreeAndRankSearch(tmp, fs, s3::uri);
            } finally {
                s3.sparkSettings().keySet().forEach(System::clearProperty);
            }
        }
    }
}
