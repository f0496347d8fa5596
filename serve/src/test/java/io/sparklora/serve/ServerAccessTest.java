package io.sparklora.serve;

import static io.sparklora.serve.ServeFixtures.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may ask and how many: a full queue answers 429, an API key makes /v1 and /metrics answer 401 without it. */
class ServerAccessTest {

    @Test
    void aFullQueueIs429AndTheServerKeepsServing(@TempDir Path out) throws Exception {
        ServeFixtures.writeAdapters(Checkpoints.load(MODEL), out, 1);
        // one sequence decodes, one waits: of 12 long requests sent at once, most find the queue full
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults().withMaxBatch(1).withQueueCapacity(1))) {
            String body = "{\"model\":\"a0\",\"prompt\":\"x\",\"max_tokens\":250,\"temperature\":0}";
            ExecutorService clients = Executors.newFixedThreadPool(12);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> replies = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                replies.add(clients.submit(() -> {
                    go.await();
                    return s.post("/v1/completions", body);
                }));
            }
            go.countDown();
            int ok = 0;
            int busy = 0;
            String served = null;
            for (Future<HttpResponse<String>> f : replies) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 429) {
                    Served.assertError(r, 429, "The server is busy");
                    assertEquals("rate_limit_exceeded", Served.JSON.readTree(r.body()).path("error").path("type")
                            .asText());
                    busy++;
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                    String text = Served.JSON.readTree(r.body()).path("choices").get(0).path("text").asText();
                    assertTrue(served == null || served.equals(text), "greedy answers differ");
                    served = text;
                    ok++;
                }
            }
            clients.shutdown();
            assertTrue(ok >= 1 && busy >= 1, ok + " served, " + busy + " refused");
            assertTrue(s.get("/metrics").body().contains(
                    "sparklora_requests_total{endpoint=\"/v1/completions\",status=\"429\"} " + busy));
            assertEquals(served, s.complete(body).path("choices").get(0).path("text").asText(),
                    "served after the burst, the same greedy text");
        }
    }

    @Test
    void withAnApiKeyV1AndMetricsNeedTheBearerKeyAndHealthDoesNot(@TempDir Path out) throws Exception {
        ServeFixtures.writeAdapters(Checkpoints.load(MODEL), out, 1);
        String completion = "{\"model\":\"a0\",\"prompt\":\"hi\",\"max_tokens\":2}";
        try (Served anonymous = Served.start(MODEL, out, ServeOptions.defaults().withApiKey("sk-test-123"))) {
            for (Served s : List.of(anonymous, anonymous.withBearer("sk-test-12"), anonymous.withBearer("wrong"))) {
                Served.assertError(s.get("/v1/models"), 401, "Incorrect API key provided");
                Served.assertError(s.post("/v1/completions", completion), 401, "Incorrect API key provided");
                Served.assertError(s.get("/metrics"), 401, "Incorrect API key provided");
                assertEquals("invalid_api_key", Served.JSON.readTree(s.get("/v1/models").body()).path("error")
                        .path("code").asText());
            }
            assertEquals(200, anonymous.get("/health").statusCode(), "a readiness probe carries no key");
            Served keyed = anonymous.withBearer("sk-test-123");
            assertEquals(200, keyed.get("/v1/models").statusCode());
            JsonNode r = keyed.complete(completion);
            assertEquals(2, r.path("usage").path("completion_tokens").asInt());
            assertEquals(200, keyed.get("/metrics").statusCode());
        }
    }
}
