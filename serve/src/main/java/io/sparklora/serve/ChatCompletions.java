package io.sparklora.serve;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/chat/completions}: the messages rendered by the base's {@link ChatTemplate} become one completion
 * prompt (token ids, encoded without added special tokens: the template writes BOS itself where the base wants it),
 * run by {@link Completions} like any other request, and the answer is re-shaped as a {@code chat.completion} (or,
 * streamed, as {@code chat.completion.chunk} deltas, the role first). Sampling fields, their checks and their errors
 * are exactly those of completions; {@code max_tokens} (or {@code max_completion_tokens}) defaults to the rest of the
 * context, as vLLM does.
 */
final class ChatCompletions {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private final ChatTemplate template; // null: the base ships none
    private final String baseName;
    private final Tokenizer tokenizer;
    private final int context;
    private final Completions completions;

    ChatCompletions(ChatTemplate template, String baseName, Tokenizer tokenizer, int context, Completions completions) {
        this.template = template;
        this.baseName = baseName;
        this.tokenizer = tokenizer;
        this.context = context;
        this.completions = completions;
    }

    /** The completion request a chat request means: its rendered prompt, its sampling fields. */
    CompletionRequest parse(JsonNode body) throws ApiException {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        if (template == null) {
            throw new ApiException(400, "invalid_request_error", "messages", "chat_template_missing",
                    "Cannot chat with " + baseName + ": its " + ChatTemplate.CONFIG + " has no chat_template; send "
                            + "a prompt to /v1/completions instead.");
        }
        JsonNode logprobs = body.get("logprobs");
        if (logprobs != null && !logprobs.isNull() && !(logprobs.isBoolean() && !logprobs.asBoolean())) {
            throw ApiException.invalid("logprobs", "logprobs is not supported for chat completions; use "
                    + "/v1/completions with echo and logprobs.");
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw ApiException.invalid("tools", "tools are not supported.");
        }
        boolean addGenerationPrompt = Fields.bool(body, "add_generation_prompt", true);
        String prompt;
        try {
            prompt = template.render(messages(body.get("messages")), addGenerationPrompt);
        } catch (ChatTemplate.TemplateException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
        int[] ids = tokenizer.encode(prompt);
        ObjectNode completion = body.deepCopy();
        completion.remove(List.of("messages", "logprobs", "top_logprobs", "echo", "max_completion_tokens"));
        ArrayNode idList = completion.putArray("prompt");
        for (int id : ids) {
            idList.add(id);
        }
        JsonNode max = body.hasNonNull("max_completion_tokens") ? body.get("max_completion_tokens")
                : body.get("max_tokens");
        if (max == null || max.isNull()) {
            completion.put("max_tokens", Math.max(0, context - ids.length));
        } else {
            completion.set("max_tokens", max);
        }
        return CompletionRequest.parse(completion);
    }

    /** messages as the template reads them: maps with a role and a string content (text parts joined). */
    private static List<Map<String, Object>> messages(JsonNode messages) throws ApiException {
        if (messages == null || messages.isNull()) {
            throw ApiException.invalid("messages", "You must provide messages.");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty list of messages.");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.invalid(where, where + " must be an object with a role and a content.");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.invalid(where + ".role", where + ".role must be one of " + ROLES + ".");
            }
            Map<String, Object> message = Completions.JSON.convertValue(m, new TypeReference<>() {
            });
            message.put("content", content(m.get("content"), where));
            out.add(message);
        }
        return out;
    }

    private static String content(JsonNode c, String where) throws ApiException {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                    throw ApiException.invalid(where + ".content", where + ".content parts must be text parts "
                            + "({\"type\": \"text\", \"text\": ...}); other kinds are not supported.");
                }
                text.append(part.path("text").asText());
            }
            return text.toString();
        }
        throw ApiException.invalid(where + ".content", where + ".content must be a string or a list of text parts.");
    }

    /** The whole answer as a chat.completion. */
    ObjectNode respond(CompletionRequest req, List<Object> prepared) throws IOException {
        ObjectNode text = completions.respond(req, prepared);
        ObjectNode body = head(text, "chat.completion");
        ArrayNode choices = body.putArray("choices");
        for (JsonNode c : text.path("choices")) {
            ObjectNode ch = choices.addObject();
            ch.put("index", c.path("index").asInt());
            ch.putObject("message").put("role", "assistant").put("content", c.path("text").asText());
            ch.putNull("logprobs");
            ch.set("finish_reason", c.path("finish_reason"));
        }
        body.set("usage", text.path("usage"));
        return body;
    }

    /** The answer as chat.completion.chunk events: a role delta, content deltas, the finish, [DONE]. */
    void stream(CompletionRequest req, List<Object> prepared, Completions.Sink sink) throws IOException {
        boolean[] first = {true};
        completions.stream(req, prepared, data -> {
            if (data.equals("[DONE]")) {
                sink.event(data);
                return;
            }
            JsonNode chunk = Completions.JSON.readTree(data);
            if (!chunk.has("choices")) { // an error object
                sink.event(data);
                return;
            }
            ObjectNode out = head(chunk, "chat.completion.chunk");
            ArrayNode choices = out.putArray("choices");
            for (JsonNode c : chunk.path("choices")) {
                ObjectNode ch = choices.addObject();
                ch.put("index", c.path("index").asInt());
                ObjectNode delta = ch.putObject("delta");
                if (first[0]) {
                    delta.put("role", "assistant");
                }
                String text = c.path("text").asText();
                if (!text.isEmpty() || first[0]) {
                    delta.put("content", text);
                }
                first[0] = false;
                ch.putNull("logprobs");
                ch.set("finish_reason", c.path("finish_reason"));
            }
            if (chunk.has("usage")) {
                out.set("usage", chunk.path("usage"));
            }
            sink.event(Completions.JSON.writeValueAsString(out));
        });
    }

    private static ObjectNode head(JsonNode text, String object) {
        ObjectNode body = Completions.JSON.createObjectNode();
        body.put("id", "chat" + text.path("id").asText());
        body.put("object", object);
        body.set("created", text.path("created"));
        body.set("model", text.path("model"));
        return body;
    }
}
