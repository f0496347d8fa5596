package io.sparklora.driver;

import io.sparklora.model.BaseModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base model of the tasks running in this executor JVM, built once and shared: LoRA training never writes to the
 * base, so every task of the executor reads the same off-heap tensors. Keyed by broadcast id (or by the checkpoint
 * path under {@code --base-on-executors}); a new key replaces the previous model, so a long-lived executor holds one
 * base at a time.
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

    private interface Loader {
        BaseModel load();
    }

    private static synchronized BaseModel get(String key, Loader loader) {
        BaseModel m = MODELS.get(key);
        if (m == null) {
            long t0 = System.nanoTime();
            m = loader.load();
            MODELS.clear();
            MODELS.put(key, m);
            BUILDS.incrementAndGet();
            LOG.info("Built base model {} on this executor in {} ms", key, (System.nanoTime() - t0) / 1_000_000);
        }
        return m;
    }
}
