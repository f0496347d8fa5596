package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

/**
 * A real server on loopback and the JDK's HttpClient against it, so each test class talks HTTP to the server the way
 * a client does (optionally with a bearer key), and checks errors as OpenAI shapes them.
 */
final class Served implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final OpenAiServer server;
    final String url;
    private final String bearer; // null: requests carry no Authorization header

    private Served(OpenAiServer server, String bearer) {
        this.server = server;
        this.url = "http://127.0.0.1:" + server.port();
        this.bearer = bearer;
    }

    /** Starts a server on a free loopback port over {@code model} and the adapters under {@code output}. */
    static Served start(Path model, Path output, ServeOptions options) throws Exception {
        return new Served(OpenAiServer.start(model, new LocalAdapterStorage(output), options.withPort(0)), null);
    }

    /** The same server, requests sent with {@code Authorization: Bearer key} (null: without the header). */
    Served withBearer(String key) {
        return new Served(server, key);
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json"));
    }

    HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + path)).GET());
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST /v1/completions, which must answer 200; the parsed body. */
    JsonNode complete(String body) throws Exception {
        HttpResponse<String> r = post("/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** The value of an unlabelled sample in GET /metrics. */
    double metric(String name) throws Exception {
        String text = get("/metrics").body();
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("No sample " + name + " in /metrics:\n" + text);
    }

    /** An OpenAI error: the status, a message starting as expected, and the four fields of the error object. */
    static void assertError(HttpResponse<String> r, int status, String messageStart) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertTrue(e.path("message").asText().startsWith(messageStart), e.toString());
        assertTrue(e.has("type") && e.has("param") && e.has("code"), e.toString());
    }

    /** The mean negative log-probability of an echoed prompt's tokens after the first (what score reports). */
    static double meanEchoedLoss(JsonNode response) {
        JsonNode lp = response.path("choices").get(0).path("logprobs").path("token_logprobs");
        double sum = 0;
        for (int i = 1; i < lp.size(); i++) {
            sum -= lp.get(i).asDouble();
        }
        return sum / (lp.size() - 1);
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
