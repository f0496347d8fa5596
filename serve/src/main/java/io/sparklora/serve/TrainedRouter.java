package io.sparklora.serve;

import io.sparklora.route.NgramRouter;
import java.io.IOException;

/**
 * {@code model: "auto"} with the router {@code train} fitted ({@code <out>/router.json}, an {@link NgramRouter}): a few
 * hash lookups per prompt token instead of a prefill per adapter. When the output has no router.json (random shards,
 * an older output), or the adapter it picks is no longer servable, the {@link LossRouter} decides.
 */
final class TrainedRouter implements PromptRouter {
    private final NgramRouter router;
    private final AdapterCache cache;
    private final PromptRouter fallback;

    private TrainedRouter(NgramRouter router, AdapterCache cache, PromptRouter fallback) {
        this.router = router;
        this.cache = cache;
        this.fallback = fallback;
    }

    /** The trained router of the output when it has one (read once, at start), else {@code fallback}. */
    static PromptRouter forOutput(AdapterStorage storage, AdapterCache cache, PromptRouter fallback)
            throws IOException {
        byte[] json = storage.readIfExists(NgramRouter.FILE);
        return json == null ? fallback
                : new TrainedRouter(NgramRouter.read(json, storage.name() + "/" + NgramRouter.FILE), cache, fallback);
    }

    @Override
    public String choose(int[] prompt) throws IOException, ApiException {
        String name = router.route(prompt);
        try {
            cache.get(name); // loads it now if it is not cached: the request is about to use it
            return name;
        } catch (AdapterCache.UnknownAdapterException e) {
            return fallback.choose(prompt);
        }
    }
}
