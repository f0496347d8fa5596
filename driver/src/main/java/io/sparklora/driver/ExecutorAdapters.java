package io.sparklora.driver;

import io.sparklora.model.ModelConfig;
import io.sparklora.serve.AdapterCache;
import io.sparklora.serve.AdapterCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The adapters of the tasks running in this executor JVM, for {@code score} and {@code generate} over a dataset: one
 * serve-module {@link AdapterCache} per train output (LRU bounded in bytes, one load however many tasks ask), over the
 * output on any Hadoop file system. Keyed by the application, the job's broadcast base and the output, like {@link ExecutorModels}: a
 * new job's key replaces the previous cache, so a long-lived executor holds one job's adapters at a time.
 */
public final class ExecutorAdapters {
    /** Bytes of adapters an executor keeps (A and B in float32); more are evicted least recently used first. */
    public static final long DEFAULT_CACHE_BYTES = 1L << 30;
    private static final Map<String, AdapterCache> CACHES = new ConcurrentHashMap<>();

    private ExecutorAdapters() {
    }

    /** The cache of {@code adaptersUri} for the job whose base is broadcast {@code broadcastId}. */
    static synchronized AdapterCache of(long broadcastId, String adaptersUri, HadoopConf conf, ModelConfig base) {
        String key = ExecutorModels.application() + " " + broadcastId + " " + adaptersUri;
        AdapterCache cache = CACHES.get(key);
        if (cache == null) {
            try {
                cache = new AdapterCache(new AdapterCatalog(new HadoopAdapterStorage(adaptersUri, conf.get())), base,
                        DEFAULT_CACHE_BYTES, Set.of());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot open adapters " + adaptersUri + " on this executor: "
                        + e.getMessage(), e);
            } catch (AdapterCache.UnknownAdapterException e) {
                throw new IllegalStateException(e.getMessage(), e); // nothing is pinned
            }
            CACHES.clear();
            CACHES.put(key, cache);
        }
        return cache;
    }
}
