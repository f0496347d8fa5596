package io.sparklora.driver;

import io.sparklora.model.BaseModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base model of the tasks running in this executor JVM, built once and shared: LoRA training never writes to the
 * base, so every task of the executor reads the same off-heap tensors. Keyed by broadcast id (or by the checkpoint
 * path under {@code --base-on-executors}), within the Spark application: broadcast ids restart at 0 in every
 * SparkContext, and a JVM that runs several contexts one after another (local mode: a notebook, a test suite) would
 * otherwise get the previous context's base for a new one's broadcast. A new key replaces the previous model, so a
 * long-lived executor holds one base at a time.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, BaseModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger BUILDS = new AtomicInteger();

    private ExecutorModels() {
    }

    /** The broadcast base, rebuilt from its arrays on the first call in this JVM. */
    public static BaseModel fromBroadcast(Broadcast<BroadcastModel> broadcast) {
        return get("broadcast-" + broadcast.id(), () -> broadcast.value().toBaseModel());
    }

    /** The base read from {@code uri} by this executor ({@code --base-on-executors}). */
    public static BaseModel fromPath(String uri, HadoopConf conf) {
        return get("path-" + uri, () -> {
            try {
                return ModelStore.load(uri, conf.get());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot load base model " + uri + " on this executor: "
                        + e.getMessage(), e);
            }
        });
    }

    /** How many times this JVM built a base model (once per executor and job, when sharing works). */
    public static int builds() {
        return BUILDS.get();
    }

    /** This JVM's Spark application ({@code spark.app.id}; set on the driver and on every executor). */
    static String application() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "" : env.conf().get("spark.app.id", "");
    }

    private interface Loader {
        BaseModel load();
    }

    private static synchronized BaseModel get(String name, Loader loader) {
        String app = application();
        String key = app + " " + name;
        BaseModel m = MODELS.get(key);
        if (m == null) {
            long t0 = System.nanoTime();
            m = loader.load();
            MODELS.clear();
            MODELS.put(key, m);
            BUILDS.incrementAndGet();
            LOG.info("Built base model {} on this executor in {} ms (application {})", name,
                    (System.nanoTime() - t0) / 1_000_000, app);
        }
        return m;
    }
}
