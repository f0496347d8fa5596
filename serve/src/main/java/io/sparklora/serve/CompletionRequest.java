package io.sparklora.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code POST /v1/completions} body as OpenAI defines it, checked field by field; fields we do not know are ignored
 * (clients send extras), known fields with values we do not support are refused.
 *
 * @param prompts     one entry per prompt: a string, or token ids (int[])
 * @param logprobs    top log-probabilities per position, or -1 for none
 * @param seed        null: a fresh seed per request
 */
public record CompletionRequest(String model, List<Object> prompts, int maxTokens, double temperature, double topP,
                                Long seed, List<String> stop, boolean stream, boolean includeUsage, boolean echo,
                                int logprobs) {
    /** OpenAI's default {@code max_tokens} for completions. */
    public static final int DEFAULT_MAX_TOKENS = 16;
    public static final int MAX_LOGPROBS = 20;

    public static CompletionRequest parse(JsonNode body) throws ApiException {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        String model = Fields.string(body, "model", null);
        if (model == null) {
            throw ApiException.invalid("model", "You must provide a model parameter.");
        }
        List<Object> prompts = prompts(body.get("prompt"));
        int maxTokens = Fields.integer(body, "max_tokens", DEFAULT_MAX_TOKENS, 0, Integer.MAX_VALUE);
        double temperature = Fields.number(body, "temperature", 1.0, 0, 2);
        double topP = Fields.number(body, "top_p", 1.0, 0, 1);
        if (topP == 0) {
            throw ApiException.invalid("top_p", "top_p must be in (0, 1], got 0.");
        }
        JsonNode seedNode = body.get("seed");
        Long seed = null;
        if (seedNode != null && !seedNode.isNull()) {
            if (!seedNode.canConvertToLong() || !seedNode.isIntegralNumber()) {
                throw ApiException.invalid("seed", "seed must be an integer.");
            }
            seed = seedNode.asLong();
        }
        List<String> stop = Fields.stringOrList(body, "stop");
        boolean stream = Fields.bool(body, "stream", false);
        boolean echo = Fields.bool(body, "echo", false);
        JsonNode lp = body.get("logprobs");
        int logprobs = lp == null || lp.isNull() ? -1 : Fields.integer(body, "logprobs", -1, 0, MAX_LOGPROBS);
        Fields.mustBe(body, "n", 1);
        Fields.mustBe(body, "best_of", 1);
        Fields.mustBeZero(body, "presence_penalty");
        Fields.mustBeZero(body, "frequency_penalty");
        JsonNode suffix = body.get("suffix");
        if (suffix != null && !suffix.isNull()) {
            throw ApiException.invalid("suffix", "suffix is not supported.");
        }
        JsonNode bias = body.get("logit_bias");
        if (bias != null && !bias.isNull() && !(bias.isObject() && bias.isEmpty())) {
            throw ApiException.invalid("logit_bias", "logit_bias is not supported.");
        }
        JsonNode options = body.get("stream_options");
        boolean includeUsage = options != null && options.isObject()
                && Fields.bool(options, "include_usage", false);
        return new CompletionRequest(model, prompts, maxTokens, temperature, topP, seed, stop, stream, includeUsage,
                echo, logprobs);
    }

    /** A string, a list of strings, a list of token ids, or a list of such lists. */
    private static List<Object> prompts(JsonNode p) throws ApiException {
        String bad = "prompt must be a string, a list of strings, a list of token ids, or a list of lists of token "
                + "ids.";
        if (p == null || p.isNull()) {
            throw ApiException.invalid("prompt", "You must provide a prompt.");
        }
        List<Object> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(p.asText());
            return out;
        }
        if (!p.isArray() || p.isEmpty()) {
            throw ApiException.invalid("prompt", bad);
        }
        if (p.get(0).isIntegralNumber()) {
            out.add(ids(p, bad));
            return out;
        }
        for (JsonNode e : p) {
            if (e.isTextual()) {
                out.add(e.asText());
            } else if (e.isArray() && !e.isEmpty()) {
                out.add(ids(e, bad));
            } else {
                throw ApiException.invalid("prompt", bad);
            }
        }
        return out;
    }

    private static int[] ids(JsonNode list, String bad) throws ApiException {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = list.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw ApiException.invalid("prompt", bad);
            }
            ids[i] = e.asInt();
        }
        return ids;
    }
}
