package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server on loopback over the shipped demo base and eight random adapters written in PEFT format, driven by the
 * JDK's HttpClient: every endpoint, prompt log-probs equal to {@link Scorer}, greedy determinism and streamed ==
 * plain, concurrent mixed-adapter requests equal to one-by-one, and every bad request.
 */
class ServerTest {
    static final Path MODEL = ServeFixtures.MODEL;
    static final ObjectMapper JSON = Served.JSON;

    @TempDir
    static Path out;
    static BaseModel base;
    static Served served;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        base = Checkpoints.load(MODEL);
        ServeFixtures.writeAdapters(base, out, 8);
        served = Served.start(MODEL, out, ServeOptions.defaults().withMaxBatch(16).withPin(List.of("a0"))
                .withMaxBodyBytes(64 * 1024));
        url = served.url;
    }

    @AfterAll
    static void stop() throws Exception {
        served.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return served.post(path, body);
    }

    static HttpResponse<String> get(String path) throws Exception {
        return served.get(path);
    }

    static JsonNode complete(String body) throws Exception {
        return served.complete(body);
    }

    /**
     * An oversized body announced by its Content-Length, of which only the headers are sent: the server must answer
     * 413 from the headers alone, before reading the body (a client still writing a body the server has already
     * refused would race the reply). Returns the status code and the JSON body; the socket times out rather than hangs.
     */
    static Map.Entry<Integer, String> postHeadersOnly(String path, long contentLength) throws Exception {
        URI u = URI.create(url);
        try (java.net.Socket socket = new java.net.Socket(u.getHost(), u.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: " + u.getHost() + "\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + contentLength
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String reply = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = Integer.parseInt(reply.substring(reply.indexOf(' ') + 1, reply.indexOf(' ') + 4));
            String head = reply.substring(0, reply.indexOf("\r\n\r\n"));
            String body = reply.substring(reply.indexOf("\r\n\r\n") + 4);
            if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = body.substring(body.indexOf("\r\n") + 2, body.lastIndexOf("}") + 1);
            }
            return Map.entry(status, body);
        }
    }

    @Test
    void healthModelsAndMetrics() throws Exception {
        assertEquals("{\"status\":\"ok\"}", get("/health").body());
        List<String> ids = new ArrayList<>();
        JSON.readTree(get("/v1/models").body()).path("data").forEach(m -> ids.add(m.path("id").asText()));
        assertEquals(List.of("base", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "auto"), ids);
        complete("{\"model\":\"a1\",\"prompt\":\"abc\",\"max_tokens\":2}");
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("sparklora_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"),
                metrics);
        assertTrue(metrics.contains("# TYPE sparklora_adapter_cache_loads_total counter"), metrics);
        assertTrue(metrics.contains("sparklora_request_seconds_bucket{le=\"+Inf\"}"), metrics);
        double engineCpu = Double.parseDouble(metrics.lines()
                .filter(l -> l.startsWith("sparklora_engine_cpu_seconds_total ")).findFirst().orElseThrow()
                .split(" ")[1]);
        assertTrue(engineCpu > 0, metrics); // the completion above ran on the engine
    }

    @Test
    void echoedPromptLogprobsEqualScore() throws Exception {
        String text = "The quick brown fox jumps over the lazy dog.";
        for (String model : List.of("base", "a3")) {
            JsonNode r = complete(ServeFixtures.echoBody(model, text));
            JsonNode lp = r.path("choices").get(0).path("logprobs");
            assertEquals(text, r.path("choices").get(0).path("text").asText());
            assertTrue(lp.path("token_logprobs").get(0).isNull());
            int n = text.length();
            assertEquals(n, lp.path("tokens").size());
            assertEquals(List.of(0, 1, 2), List.of(lp.path("text_offset").get(0).asInt(),
                    lp.path("text_offset").get(1).asInt(), lp.path("text_offset").get(2).asInt()));
            double score = ServeFixtures.scoreLoss(base, out, model.equals("base") ? null : model, text);
            assertEquals(score, Served.meanEchoedLoss(r), 1e-4, model);
            assertEquals(n, r.path("usage").path("prompt_tokens").asInt());
            assertEquals(0, r.path("usage").path("completion_tokens").asInt());
        }
    }

    @Test
    void greedyIsDeterministicAndStreamedEqualsPlain() throws Exception {
        String body = "{\"model\":\"a2\",\"prompt\":\"Once upon\",\"max_tokens\":24,\"temperature\":0";
        String plain = complete(body + "}").path("choices").get(0).path("text").asText();
        assertEquals(plain, complete(body + "}").path("choices").get(0).path("text").asText());
        JsonNode again = complete(body + "}");
        String finish = again.path("choices").get(0).path("finish_reason").asText();
        int generated = again.path("usage").path("completion_tokens").asInt();
        assertTrue(finish.equals("length") ? generated == 24 : finish.equals("stop") && generated >= 1 && generated < 24,
                finish + " after " + generated + " tokens");
        assertFalse(plain.isEmpty());
        HttpResponse<String> s = post("/v1/completions", body + ",\"stream\":true}");
        assertEquals(200, s.statusCode());
        assertTrue(s.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        StringBuilder text = new StringBuilder();
        String last = null;
        for (String line : s.body().split("\n")) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            last = line.substring(6);
            if (!last.equals("[DONE]")) {
                text.append(JSON.readTree(last).path("choices").get(0).path("text").asText());
            }
        }
        assertEquals("[DONE]", last);
        assertEquals(plain, text.toString());
        // a different adapter continues differently; a seeded sample repeats
        assertNotEquals(plain, complete("{\"model\":\"a5\",\"prompt\":\"Once upon\",\"max_tokens\":24,"
                + "\"temperature\":0}").path("choices").get(0).path("text").asText());
        String sampled = "{\"model\":\"a2\",\"prompt\":[79,110,99,101],\"max_tokens\":16,\"temperature\":1,"
                + "\"top_p\":0.9,\"seed\":7}";
        assertEquals(complete(sampled).path("choices").get(0).path("text").asText(),
                complete(sampled).path("choices").get(0).path("text").asText());
    }

    @Test
    void stopStringsListPromptsAndTokenIdPrompts() throws Exception {
        JsonNode free = complete("{\"model\":\"a1\",\"prompt\":\"ab\",\"max_tokens\":20,\"temperature\":0}");
        String text = free.path("choices").get(0).path("text").asText();
        String stop = text.substring(3, 5);
        JsonNode stopped = complete("{\"model\":\"a1\",\"prompt\":\"ab\",\"max_tokens\":20,\"temperature\":0,"
                + "\"stop\":" + JSON.writeValueAsString(stop) + "}");
        assertEquals(text.substring(0, text.indexOf(stop)), stopped.path("choices").get(0).path("text").asText());
        assertEquals("stop", stopped.path("choices").get(0).path("finish_reason").asText());
        JsonNode many = complete("{\"model\":\"a1\",\"prompt\":[\"ab\",[97,98]],\"max_tokens\":20,"
                + "\"temperature\":0}");
        assertEquals(2, many.path("choices").size());
        assertEquals(text, many.path("choices").get(0).path("text").asText());
        assertEquals(text, many.path("choices").get(1).path("text").asText());
        assertEquals(40, many.path("usage").path("completion_tokens").asInt());
    }

    /**
     * 72 requests over eight adapters and the base from 16 client threads, against the same requests sent one by one:
     * no error, every log-probability within 1e-4, and the same greedy text, except where the one-by-one run's two
     * most likely tokens tie within 1e-4 at the first token that differs (batched rows may round differently); such
     * ties are counted and must stay rare.
     */
    @Test
    void concurrentMixedAdapterRequestsEqualOneByOne() throws Exception {
        int requests = 72;
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            bodies.add("{\"model\":\"" + (i % 9 == 8 ? "base" : "a" + (i % 9)) + "\",\"prompt\":"
                    + JSON.writeValueAsString("Request " + i + " says") + ",\"max_tokens\":12,\"temperature\":0,"
                    + "\"logprobs\":2,\"echo\":true}");
        }
        List<JsonNode> alone = new ArrayList<>();
        for (String b : bodies) {
            alone.add(complete(b));
        }
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<Future<JsonNode>> together = new ArrayList<>();
        for (String b : bodies) {
            together.add(clients.submit(() -> complete(b)));
        }
        int ties = 0;
        for (int i = 0; i < requests; i++) {
            JsonNode a = alone.get(i).path("choices").get(0).path("logprobs");
            JsonNode t = together.get(i).get().path("choices").get(0).path("logprobs");
            assertEquals(alone.get(i).path("model").asText(), together.get(i).get().path("model").asText());
            int n = Math.min(a.path("tokens").size(), t.path("tokens").size());
            int k = 1;
            while (k < n && a.path("tokens").get(k).equals(t.path("tokens").get(k))) {
                assertEquals(a.path("token_logprobs").get(k).asDouble(), t.path("token_logprobs").get(k).asDouble(),
                        1e-4, "request " + i + " token " + k);
                k++;
            }
            if (k < n || a.path("tokens").size() != t.path("tokens").size()) {
                assertTrue(k < n && topTwoGap(a.path("top_logprobs").get(k)) < 1e-4, "request " + i
                        + " differs at token " + k + " without a tie: " + a + " vs " + t);
                ties++;
            }
        }
        clients.shutdown();
        assertTrue(ties <= requests / 8, ties + " greedy ties of " + requests);
    }

    /** The gap between the two largest log-probabilities of a top_logprobs object (infinite with fewer than two). */
    static double topTwoGap(JsonNode top) {
        List<Double> v = new ArrayList<>();
        top.forEach(x -> v.add(x.asDouble()));
        v.sort(java.util.Comparator.reverseOrder());
        return v.size() < 2 ? Double.POSITIVE_INFINITY : v.get(0) - v.get(1);
    }

    static void assertError(HttpResponse<String> r, int status, String messageStart) throws Exception {
        Served.assertError(r, status, messageStart);
    }

    @Test
    void everyBadRequestIsAnOpenAiErrorAndTheServerStaysUp() throws Exception {
        assertError(post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"a\"}"), 404,
                "The model `nope` does not exist.");
        assertError(post("/v1/completions", "{\"model\":"), 400, "The request body is not valid JSON");
        assertError(post("/v1/completions", "[1]"), 400, "The request body must be a JSON object.");
        assertError(post("/v1/completions", "{\"prompt\":\"a\"}"), 400, "You must provide a model parameter.");
        assertError(post("/v1/completions", "{\"model\":\"a1\"}"), 400, "You must provide a prompt.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":{}}"), 400, "prompt must be");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":\"5\"}"), 400,
                "max_tokens must be an integer.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":-1}"), 400,
                "max_tokens must be between 0 and");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":1000}"), 400,
                "This model's maximum context length is 256 tokens.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":" + JSON.writeValueAsString("x".repeat(300))
                + ",\"max_tokens\":0}"), 400, "This model's maximum context length is 256 tokens.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":[1,999]}"), 400,
                "Token id 999 is out of vocabulary");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"n\":2}"), 400, "n must be 1");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"temperature\":-1}"), 400,
                "temperature must be between");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"logprobs\":99}"), 400,
                "logprobs must be between");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"\"}"), 400, "The prompt is empty");
        assertError(post("/v1/completions", "{\"model\":7,\"prompt\":\"a\"}"), 400, "model must be a string.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":2.5}"), 400,
                "max_tokens must be an integer.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":1e12}"), 400,
                "max_tokens must be");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"temperature\":\"hot\"}"), 400,
                "temperature must be a number.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"stream\":\"yes\"}"), 400,
                "stream must be a boolean.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"stop\":5}"), 400,
                "stop must be a string or a list of strings.");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":[\"a\",5]}"), 400, "prompt must be");
        assertError(post("/v1/completions", "{\"model\":\"a1\",\"prompt\":\"a\",\"n\":2,\"stream\":true}"), 400,
                "n must be 1");
        assertError(post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"a\",\"stream\":true}"), 404,
                "The model `nope` does not exist.");
        Map.Entry<Integer, String> tooLarge = postHeadersOnly("/v1/completions", 70 * 1024);
        assertEquals(413, tooLarge.getKey(), tooLarge.getValue());
        assertTrue(JSON.readTree(tooLarge.getValue()).path("error").path("message").asText()
                .startsWith("The request body exceeds the limit"), tooLarge.getValue());
        assertError(get("/v1/completions"), 405, "Method GET is not allowed");
        assertError(get("/nowhere"), 404, "Unknown path");
        assertError(post("/v1/chat/completions", "{\"model\":\"a1\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}]}"), 400, "Cannot chat with " + MODEL + ": its tokenizer_config.json has no "
                + "chat_template");
        // unknown fields are ignored
        complete("{\"model\":\"a1\",\"prompt\":\"a\",\"max_tokens\":1,\"user\":\"x\",\"something_new\":[1]}");
        assertEquals(200, get("/health").statusCode());
    }
}
