package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/chat/completions} over the demo base given Qwen3's chat template: the answer is the completion of
 * the prompt Jinja2 renders for the messages (recorded in {@code chat/qwen3-rendered.json}), streamed deltas
 * concatenate to the plain answer, and bad chat requests are OpenAI errors with the server staying up.
 */
class ServerChatTest {
    @TempDir
    static Path dir;
    static Served served;
    static JsonNode cases;

    @BeforeAll
    static void start() throws Exception {
        Path model = ServeFixtures.baseWithQwen3ChatTemplate(dir.resolve("base"));
        ServeFixtures.writeAdapters(Checkpoints.load(model), dir, 2);
        served = Served.start(model, dir, ServeOptions.defaults());
        cases = Served.JSON.readTree(ServerChatTest.class.getResourceAsStream("/chat/qwen3-rendered.json"));
    }

    @AfterAll
    static void stop() throws Exception {
        served.close();
    }

    static String chatBody(JsonNode c, String extra) throws Exception {
        return "{\"model\":\"a1\",\"messages\":" + Served.JSON.writeValueAsString(c.path("messages"))
                + ",\"temperature\":0" + extra + "}";
    }

    @Test
    void theAnswerIsTheCompletionOfTheRenderedPrompt() throws Exception {
        for (int i : new int[] {0, 2, 5}) {
            JsonNode c = cases.get(i);
            HttpResponse<String> r = served.post("/v1/chat/completions", chatBody(c, ",\"max_tokens\":20"));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode chat = Served.JSON.readTree(r.body());
            JsonNode text = served.complete("{\"model\":\"a1\",\"prompt\":" + Served.JSON.writeValueAsString(
                    c.path("rendered").asText()) + ",\"temperature\":0,\"max_tokens\":20}");
            assertEquals("chat.completion", chat.path("object").asText());
            assertTrue(chat.path("id").asText().startsWith("chatcmpl-"), chat.toString());
            assertEquals("a1", chat.path("model").asText());
            JsonNode choice = chat.path("choices").get(0);
            assertEquals("assistant", choice.path("message").path("role").asText());
            assertEquals(text.path("choices").get(0).path("text").asText(),
                    choice.path("message").path("content").asText(), c.path("name").asText());
            assertEquals(text.path("choices").get(0).path("finish_reason"), choice.path("finish_reason"));
            assertEquals(text.path("usage"), chat.path("usage"));
        }
    }

    @Test
    void withoutMaxTokensTheAnswerMayFillTheContext() throws Exception {
        JsonNode chat = Served.JSON.readTree(served.post("/v1/chat/completions", chatBody(cases.get(0), ""))
                .body());
        JsonNode usage = chat.path("usage");
        assertEquals(256, usage.path("total_tokens").asInt(), chat.toString());
    }

    @Test
    void streamedDeltasConcatenateToThePlainAnswer() throws Exception {
        JsonNode c = cases.get(2);
        String plain = Served.JSON.readTree(served.post("/v1/chat/completions", chatBody(c, ",\"max_tokens\":24"))
                .body()).path("choices").get(0).path("message").path("content").asText();
        HttpResponse<String> s = served.post("/v1/chat/completions", chatBody(c, ",\"max_tokens\":24,"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        StringBuilder text = new StringBuilder();
        String last = null;
        String finish = null;
        boolean first = true;
        int usageChunks = 0;
        for (String line : s.body().split("\n")) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            last = line.substring(6);
            if (last.equals("[DONE]")) {
                continue;
            }
            JsonNode chunk = Served.JSON.readTree(last);
            assertEquals("chat.completion.chunk", chunk.path("object").asText(), last);
            if (chunk.has("usage")) {
                usageChunks++;
                assertEquals(24, chunk.path("usage").path("completion_tokens").asInt(), last);
                continue;
            }
            JsonNode ch = chunk.path("choices").get(0);
            if (first) {
                assertEquals("assistant", ch.path("delta").path("role").asText(), last);
                first = false;
            } else {
                assertFalse(ch.path("delta").has("role"), last);
            }
            text.append(ch.path("delta").path("content").asText());
            if (!ch.path("finish_reason").isNull()) {
                finish = ch.path("finish_reason").asText();
            }
        }
        assertEquals("[DONE]", last);
        assertEquals(plain, text.toString());
        assertEquals("length", finish);
        assertEquals(1, usageChunks);
    }

    @Test
    void badChatRequestsAreOpenAiErrorsAndTheServerStaysUp() throws Exception {
        String ok = Served.JSON.writeValueAsString(cases.get(0).path("messages"));
        String[][] bad = {
            {"{\"model\":\"a1\"}", "400", "You must provide messages."},
            {"{\"model\":\"a1\",\"messages\":[]}", "400", "messages must be a non-empty list"},
            {"{\"model\":\"a1\",\"messages\":\"hi\"}", "400", "messages must be a non-empty list"},
            {"{\"model\":\"a1\",\"messages\":[\"hi\"]}", "400", "messages[0] must be an object"},
            {"{\"model\":\"a1\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "400",
                "messages[0].role must be one of"},
            {"{\"model\":\"a1\",\"messages\":[{\"role\":\"user\",\"content\":5}]}", "400",
                "messages[0].content must be a string"},
            {"{\"model\":\"a1\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "400",
                "messages[0].content parts must be text parts"},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"max_tokens\":-3}", "400", "max_tokens must be between"},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"max_tokens\":900}", "400",
                "This model's maximum context length is 256 tokens."},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"n\":3}", "400", "n must be 1"},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"logprobs\":true}", "400", "logprobs is not supported"},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"temperature\":\"0\"}", "400",
                "temperature must be a number."},
            {"{\"model\":\"nope\",\"messages\":" + ok + "}", "404", "The model `nope` does not exist."},
            {"{\"model\":\"a1\",\"messages\":" + ok + ",\"stream\":true,\"n\":2}", "400", "n must be 1"},
            {"{\"messages\":" + ok + "}", "400", "You must provide a model parameter."},
            {"{\"model\":", "400", "The request body is not valid JSON"},
        };
        for (String[] b : bad) {
            Served.assertError(served.post("/v1/chat/completions", b[0]), Integer.parseInt(b[1]), b[2]);
        }
        Served.assertError(served.get("/v1/chat/completions"), 405, "Method GET is not allowed");
        // unknown fields are ignored, as OpenAI clients send extras
        HttpResponse<String> r = served.post("/v1/chat/completions", "{\"model\":\"a1\",\"messages\":" + ok
                + ",\"max_tokens\":2,\"user\":\"u\",\"metadata\":{\"k\":1}}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(200, served.get("/health").statusCode());
    }
}
