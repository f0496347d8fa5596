package io.sparklora.serve;

import io.sparklora.infer.InferenceAdapter;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The adapters in RAM, loaded on demand from an {@link AdapterCatalog}: least-recently-used entries are evicted while
 * the cached bytes (A and B in float32) exceed the budget; pinned adapters are loaded at start and never evicted. A
 * miss re-reads the catalog first, so adapters trained after the server started are found. Concurrent requests for
 * an adapter that is loading wait for that one load. A hit is a map lookup: switching adapters copies nothing, the
 * base is never touched (see {@link InferenceAdapter}).
 *
 * <p>An evicted adapter that a running request still uses stays valid for that request (it holds the reference).
 */
public final class AdapterCache {
    /** Thrown when no adapter of that name exists in the output. */
    public static final class UnknownAdapterException extends Exception {
        UnknownAdapterException(String message) {
            super(message);
        }
    }

    private final AdapterCatalog catalog;
    private final ModelConfig base;
    private final long maxBytes;
    private final Set<String> pinned;
    private final LinkedHashMap<String, InferenceAdapter> lru = new LinkedHashMap<>(16, 0.75f, true); // access order
    private final Map<String, CompletableFuture<InferenceAdapter>> loading = new HashMap<>();
    private long bytes;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong loads = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();

    /** Loads every pinned adapter now; fails when one is unknown or they do not fit in {@code maxBytes} together. */
    public AdapterCache(AdapterCatalog catalog, ModelConfig base, long maxBytes, Set<String> pinned)
            throws IOException, UnknownAdapterException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("Invalid cache size " + maxBytes + ": must be >= 0 bytes");
        }
        this.catalog = catalog;
        this.base = base;
        this.maxBytes = maxBytes;
        this.pinned = Set.copyOf(pinned);
        long pinnedBytes = 0;
        for (String name : pinned) {
            pinnedBytes += get(name).bytes();
        }
        if (pinnedBytes > maxBytes) {
            throw new IllegalArgumentException("Cannot pin " + String.join(",", pinned) + ": they hold "
                    + pinnedBytes + " bytes, more than the cache's " + maxBytes);
        }
    }

    /** The adapter named {@code name}, from RAM or loaded (once, however many callers ask at the same time). */
    public InferenceAdapter get(String name) throws IOException, UnknownAdapterException {
        CompletableFuture<InferenceAdapter> load;
        boolean mine = false;
        synchronized (this) {
            InferenceAdapter hit = lru.get(name);
            if (hit != null) {
                hits.incrementAndGet();
                return hit;
            }
            load = loading.get(name);
            if (load == null) {
                load = new CompletableFuture<>();
                loading.put(name, load);
                mine = true;
            }
        }
        if (mine) {
            try {
                InferenceAdapter a = load(name);
                synchronized (this) {
                    insert(a);
                    loading.remove(name);
                }
                load.complete(a);
            } catch (IOException | UnknownAdapterException | RuntimeException e) {
                synchronized (this) {
                    loading.remove(name);
                }
                load.completeExceptionally(e);
            }
        }
        try {
            return load.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Cannot load adapter " + name + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UnknownAdapterException u) {
                throw new UnknownAdapterException(u.getMessage());
            }
            if (c instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("Cannot load adapter " + name + ": " + c.getMessage(), c);
        }
    }

    private InferenceAdapter load(String name) throws IOException, UnknownAdapterException {
        String path = catalog.adapters().get(name);
        if (path == null) {
            catalog.refresh(); // trained since the last read?
            path = catalog.adapters().get(name);
        }
        if (path == null) {
            throw new UnknownAdapterException("The model `" + name + "` does not exist.");
        }
        InferenceAdapter a = new InferenceAdapter(name, catalog.storage().readAdapter(path, base), base);
        loads.incrementAndGet();
        return a;
    }

    /** Adds a loaded adapter, then evicts unpinned ones, least recently used first, until the budget holds. */
    private void insert(InferenceAdapter a) {
        lru.put(a.name(), a);
        bytes += a.bytes();
        Iterator<Map.Entry<String, InferenceAdapter>> it = lru.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Map.Entry<String, InferenceAdapter> e = it.next();
            if (pinned.contains(e.getKey()) || e.getValue() == a) {
                continue; // the newest stays: its caller is waiting for it
            }
            it.remove();
            bytes -= e.getValue().bytes();
            evictions.incrementAndGet();
        }
    }

    /** Names of the servable adapters (the catalog re-read). */
    public List<String> names() throws IOException {
        catalog.refresh();
        return new ArrayList<>(catalog.adapters().keySet());
    }

    public synchronized boolean isCached(String name) {
        return lru.containsKey(name);
    }

    public synchronized long bytesCached() {
        return bytes;
    }

    public synchronized int entries() {
        return lru.size();
    }

    public long hits() {
        return hits.get();
    }

    public long loads() {
        return loads.get();
    }

    public long evictions() {
        return evictions.get();
    }

    public long maxBytes() {
        return maxBytes;
    }
}
