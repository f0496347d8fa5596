package io.sparklora.cluster;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 protocol endpoint in this JVM: S3Proxy (jclouds' in-memory {@code transient} blob store behind an S3 REST
 * front end with AWS signature checking) on {@code http://127.0.0.1:<port>}, with one bucket created. Hadoop's
 * {@code s3a://} connector ({@code hadoop-aws} with the AWS SDK v2) reaches it with the settings of
 * {@link #hadoopSettings()}: the endpoint, path-style addressing (no DNS per bucket), plain HTTP, static credentials.
 */
public final class S3Endpoint implements AutoCloseable {
    public static final String ACCESS_KEY = "spark-lora-access";
    public static final String SECRET_KEY = "spark-lora-secret";
    private static final long START_TIMEOUT_MS = 30_000;

    private final S3Proxy proxy;
    private final BlobStoreContext context;
    private final String bucket;

    private S3Endpoint(S3Proxy proxy, BlobStoreContext context, String bucket) {
        this.proxy = proxy;
        this.context = context;
        this.bucket = bucket;
    }

    /** Starts S3Proxy on a free port of 127.0.0.1 and creates {@code bucket}. */
    public static S3Endpoint start(String bucket) throws Exception {
        BlobStoreContext context = ContextBuilder.newBuilder("transient")
                .credentials("identity", "credential")
                .overrides(new Properties())
                .build(BlobStoreContext.class);
        BlobStore store = context.getBlobStore();
        store.createContainerInLocation(null, bucket);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        try {
            proxy.start();
            long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
            while (!AbstractLifeCycle.STARTED.equals(proxy.getState())) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("Cannot start S3Proxy: state " + proxy.getState() + " after "
                            + START_TIMEOUT_MS + " ms");
                }
                Thread.sleep(20);
            }
        } catch (Exception e) {
            new S3Endpoint(proxy, context, bucket).close();
            throw e;
        }
        return new S3Endpoint(proxy, context, bucket);
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    public String bucket() {
        return bucket;
    }

    /** {@code s3a://<bucket>/<key>}. */
    public URI uri(String key) {
        return URI.create("s3a://" + bucket + "/" + key);
    }

    /**
     * The {@code fs.s3a.*} settings that point hadoop-aws at this endpoint. Region and credentials are static so the
     * SDK never probes EC2 metadata; the bucket probe and the ETag/version change detection are off because S3Proxy's
     * transient store does not return object versions.
     */
    public Map<String, String> hadoopSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("fs.s3a.endpoint", endpoint());
        s.put("fs.s3a.endpoint.region", "us-east-1");
        s.put("fs.s3a.path.style.access", "true");
        s.put("fs.s3a.connection.ssl.enabled", "false");
        s.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        s.put("fs.s3a.access.key", ACCESS_KEY);
        s.put("fs.s3a.secret.key", SECRET_KEY);
        s.put("fs.s3a.bucket.probe", "0");
        s.put("fs.s3a.change.detection.mode", "none");
        s.put("fs.s3a.change.detection.version.required", "false");
        // Fail fast in tests instead of retrying a broken endpoint for minutes.
        s.put("fs.s3a.attempts.maximum", "2");
        s.put("fs.s3a.retry.limit", "2");
        return s;
    }

    /** A fresh Hadoop configuration holding {@link #hadoopSettings()}. */
    public Configuration configuration() {
        Configuration conf = new Configuration();
        hadoopSettings().forEach(conf::set);
        return conf;
    }

    /** The same settings as Spark properties ({@code spark.hadoop.} prefix), for a SparkConf or system properties. */
    public Map<String, String> sparkSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        hadoopSettings().forEach((k, v) -> s.put("spark.hadoop." + k, v));
        return s;
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Cannot stop S3Proxy on " + endpoint() + ": interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot stop S3Proxy on " + endpoint() + ": " + e.getMessage(), e);
        } finally {
            context.close();
        }
    }
}
