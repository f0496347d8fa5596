package io.sparklora.cluster;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS in this JVM: one NameNode and one DataNode of Hadoop's {@link MiniDFSCluster} (from
 * {@code hadoop-client-minicluster}, which is built to sit next to the shaded {@code hadoop-client-api/runtime} Spark
 * uses), storing its blocks under a directory the test owns.
 *
 * <p>Clients reach it through {@link #uri()} ({@code hdfs://localhost:<port>/}); any Hadoop {@link Configuration}
 * works, since the URI names the NameNode. Replication is 1 because there is one DataNode.
 */
public final class MiniHdfs implements AutoCloseable {
    private final MiniDFSCluster cluster;

    private MiniHdfs(MiniDFSCluster cluster) {
        this.cluster = cluster;
    }

    /** Formats and starts a one-DataNode HDFS whose storage lives under {@code baseDir}. */
    public static MiniHdfs start(Path baseDir) throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toAbsolutePath().toString());
        conf.setInt("dfs.replication", 1);
        // The web UIs are not used; port 0 keeps parallel test JVMs from colliding.
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
        try {
            cluster.waitActive();
        } catch (IOException | RuntimeException e) {
            cluster.shutdown(true);
            throw new IOException("Cannot start MiniDFSCluster under " + baseDir + ": " + e.getMessage(), e);
        }
        return new MiniHdfs(cluster);
    }

    /** {@code hdfs://localhost:<port>/}, the root of the file system. */
    public URI uri() {
        return URI.create(cluster.getURI().toString() + "/");
    }

    /** {@code hdfs://localhost:<port>/<relative>}. */
    public URI uri(String relative) {
        return uri().resolve(relative);
    }

    /** A client configuration for this cluster (a copy; {@code fs.defaultFS} points at it). */
    public Configuration configuration() {
        Configuration conf = new Configuration(cluster.getConfiguration(0));
        conf.set("fs.defaultFS", cluster.getURI().toString());
        return conf;
    }

    @Override
    public void close() {
        cluster.shutdown(true);
    }
}
