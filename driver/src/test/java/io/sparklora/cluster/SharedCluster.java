package io.sparklora.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One standalone cluster (a Master, two single-core Workers with 1 GB each) for every test class of the JVM that
 * needs one, started on first use and stopped by {@link StandaloneCluster}'s shutdown hook when the test JVM exits:
 * a cluster takes seconds to start, a test on it often less. Its work directory is {@code target/shared-cluster}.
 *
 * <p>Tests on it run one application at a time (the Workers' two cores are the whole cluster) and read only the
 * executor logs of their own application ({@link StandaloneCluster#executorLogsAfter}). A test may kill an executor:
 * the Master then launches a new one for the application.
 */
final class SharedCluster {
    private static StandaloneCluster cluster;

    private SharedCluster() {
    }

    static synchronized StandaloneCluster get() throws IOException, InterruptedException {
        if (cluster == null) {
            Path dir = Path.of("target", "shared-cluster").toAbsolutePath();
            if (Files.exists(dir)) {
                try (java.util.stream.Stream<Path> old = Files.walk(dir)) { // an earlier run's logs
                    for (Path p : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            cluster = StandaloneCluster.start(Files.createDirectories(dir), 2, 1, "1g");
        }
        return cluster;
    }
}
