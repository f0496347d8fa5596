package io.sparklora.serve;

import io.sparklora.infer.InferenceAdapter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a request's {@code model} may name. Cached mode: {@code base}, every adapter of the output (loaded through the
 * {@link AdapterCache}), and {@code auto} (the output's {@link TrainedRouter}, else the {@link LossRouter}, picks). Merged mode ({@code --merge NAME}): the one
 * merged adapter under its name (the decoder's base already holds it), and {@code auto}, which means it.
 */
final class ServedModels {
    static final String BASE = "base";
    static final String AUTO = "auto";

    /** A resolved model: the name the response reports and the adapter rows use (null: none on top of the base). */
    record Resolved(String name, InferenceAdapter adapter) {
    }

    private final AdapterCache cache; // null in merged mode
    private final String merged; // null in cached mode
    private final PromptRouter router; // null in merged mode

    private ServedModels(AdapterCache cache, String merged, PromptRouter router) {
        this.cache = cache;
        this.merged = merged;
        this.router = router;
    }

    static ServedModels cached(AdapterCache cache, PromptRouter router) {
        return new ServedModels(cache, null, router);
    }

    static ServedModels merged(String name) {
        return new ServedModels(null, name, null);
    }

    AdapterCache cache() {
        return cache;
    }

    /** Every model id {@code /v1/models} lists, base first and auto last. */
    List<String> ids() throws IOException {
        List<String> out = new ArrayList<>();
        if (merged != null) {
            out.add(merged);
        } else {
            out.add(BASE);
            for (String n : cache.names()) {
                if (!n.equals(BASE) && !n.equals(AUTO)) {
                    out.add(n);
                }
            }
        }
        out.add(AUTO);
        return out;
    }

    /** The model a request names; {@code auto} routes on {@code prompt}. */
    Resolved resolve(String name, int[] prompt) throws ApiException, IOException {
        if (merged != null) {
            if (name.equals(merged) || name.equals(AUTO)) {
                return new Resolved(merged, null);
            }
            throw notFound(name);
        }
        if (name.equals(BASE)) {
            return new Resolved(BASE, null);
        }
        if (name.equals(AUTO)) {
            String chosen = router.choose(prompt);
            return resolve(chosen, prompt);
        }
        try {
            return new Resolved(name, cache.get(name));
        } catch (AdapterCache.UnknownAdapterException e) {
            throw notFound(name);
        }
    }

    private static ApiException notFound(String name) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "The model `" + name + "` does not exist.");
    }
}
