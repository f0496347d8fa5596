package io.sparklora.serve;

import io.sparklora.route.NgramRouter;
import java.io.IOException;
import java.util.Objects;

/**
 * {@code model: "auto"} with the router {@code train} fitted ({@code <out>/router.json}, an {@link NgramRouter}): a few
 * hash lookups per prompt token instead of a prefill per adapter. When the output has no router.json (random shards,
 * an older output), or the adapter it picks is no longer servable, the {@link LossRouter} decides.
 *
 * <p>A later {@code train} into the same output may add adapters and rewrite router.json while the server runs: every
 * {@code auto} request compares router.json's {@link AdapterStorage#version} (size and modification time, no read)
 * with the one loaded, and on a change re-reads the manifest and reloads the router, so the new adapters are routed
 * to without a restart. A router.json that cannot be read keeps the previous router and fails the request with the
 * reason (a train may be half-way through replacing it; the next request tries again).
 */
final class TrainedRouter implements PromptRouter {
    private record Loaded(String version, NgramRouter router) { // router null: the output has no router.json
    }

    private final AdapterCatalog catalog;
    private final AdapterCache cache;
    private final PromptRouter fallback;
    private volatile Loaded loaded = new Loaded(null, null);

    private TrainedRouter(AdapterCatalog catalog, AdapterCache cache, PromptRouter fallback) {
        this.catalog = catalog;
        this.cache = cache;
        this.fallback = fallback;
    }

    /** The output's trained router (read now, and again whenever router.json changes), else {@code fallback}. */
    static TrainedRouter forOutput(AdapterCatalog catalog, AdapterCache cache, PromptRouter fallback)
            throws IOException {
        TrainedRouter r = new TrainedRouter(catalog, cache, fallback);
        r.current();
        return r;
    }

    /** The router of router.json as it is now (null: none), reloaded when its version changed. */
    NgramRouter current() throws IOException {
        AdapterStorage storage = catalog.storage();
        String version = storage.version(NgramRouter.FILE);
        Loaded l = loaded;
        if (Objects.equals(version, l.version())) {
            return l.router();
        }
        synchronized (this) {
            l = loaded;
            if (Objects.equals(version, l.version())) {
                return l.router();
            }
            byte[] json = version == null ? null : storage.readIfExists(NgramRouter.FILE);
            NgramRouter router = json == null ? null
                    : NgramRouter.read(json, storage.name() + "/" + NgramRouter.FILE);
            catalog.refresh(); // the router names adapters of the train that wrote it
            loaded = new Loaded(version, router);
            return router;
        }
    }

    @Override
    public String choose(int[] prompt) throws IOException, ApiException {
        NgramRouter router = current();
        if (router == null) {
            return fallback.choose(prompt);
        }
        String name = router.route(prompt);
        try {
            cache.get(name); // loads it now if it is not cached: the request is about to use it
            return name;
        } catch (AdapterCache.UnknownAdapterException e) {
            return fallback.choose(prompt);
        }
    }
}
