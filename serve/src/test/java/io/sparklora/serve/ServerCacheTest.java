package io.sparklora.serve;

import static io.sparklora.serve.ServeFixtures.MODEL;
import static io.sparklora.serve.ServeFixtures.echoBody;
import static io.sparklora.serve.ServeFixtures.scoreLoss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter cache seen over HTTP: a byte budget smaller than the adapters evicts (and every adapter is still served
 * with the training forward's numbers), a pinned adapter is never evicted, concurrent requests for an adapter being
 * loaded share one load, and adapters added to the output's
 * manifest after the server started are served without a restart.
 */
class ServerCacheTest {
    static final String TEXT = "Eviction must not change a single number.";

    @Test
    void aBudgetSmallerThanTheAdaptersEvictsButServesEveryOneCorrectlyAndKeepsThePinnedOne(@TempDir Path out)
            throws Exception {
        BaseModel base = Checkpoints.load(MODEL);
        long one = 0;
        for (int i = 0; i < 6; i++) {
            LoraAdapter a = ServeFixtures.writeAdapter(base, out, "a" + i, i);
            one = ServeFixtures.adapterBytes(a);
        }
        long budget = one * 5 / 2; // a0 pinned + one more fit; six do not
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults().withCacheBytes(budget)
                .withPin(List.of("a0")))) {
            assertEquals(1, s.metric("sparklora_adapter_cache_loads_total"), "the pinned adapter loads at start");
            List<String> order = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (int i = 1; i < 6; i++) {
                    order.add("a" + i);
                    order.add("a0");
                }
            }
            for (String name : order) {
                double loadsBefore = s.metric("sparklora_adapter_cache_loads_total");
                JsonNode r = s.complete(echoBody(name, TEXT));
                assertEquals(name, r.path("model").asText());
                assertEquals(scoreLoss(base, out, name, TEXT), Served.meanEchoedLoss(r), 1e-4, name);
                double loaded = s.metric("sparklora_adapter_cache_loads_total") - loadsBefore;
                assertEquals(name.equals("a0") ? 0 : 1, loaded, name + ": pinned a0 is never reloaded, the others "
                        + "were evicted since their last request");
                assertTrue(s.server.cache().isCached("a0"), "pinned a0 evicted after " + name);
                assertTrue(s.metric("sparklora_adapter_cache_bytes") <= budget, "over the budget after " + name);
            }
            assertEquals(9, s.metric("sparklora_adapter_cache_evictions_total"), "each of 10 unpinned loads but "
                    + "the first evicts the one before");
            assertEquals(10, s.metric("sparklora_adapter_cache_hits_total"), "every a0 request is a hit");
        }
    }

    @Test
    void adaptersTrainedIntoTheOutputAfterStartAreServedWithoutRestart(@TempDir Path out) throws Exception {
        BaseModel base = Checkpoints.load(MODEL);
        ServeFixtures.writeAdapter(base, out, "fr", 1);
        ServeFixtures.writeAdapter(base, out, "de", 2);
        ServeFixtures.writeAdapter(base, out, "broken", 3);
        writeManifest(out, "{\"name\":\"fr\",\"path\":\"adapters/fr\",\"status\":\"trained\"},"
                + "{\"name\":\"de\",\"path\":\"adapters/de\",\"status\":\"existing\"},"
                + "{\"name\":\"broken\",\"path\":\"adapters/broken\",\"status\":\"failed\"}");
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults())) {
            assertEquals(List.of("base", "fr", "de", "auto"), ids(s));
            Served.assertError(s.post("/v1/completions", echoBody("es", TEXT)), 404, "The model `es` does not exist.");
            Served.assertError(s.post("/v1/completions", echoBody("broken", TEXT)), 404,
                    "The model `broken` does not exist.");
            // a later train run adds "es" and commits the manifest; the running server finds it on the miss
            ServeFixtures.writeAdapter(base, out, "es", 4);
            writeManifest(out, "{\"name\":\"fr\",\"path\":\"adapters/fr\",\"status\":\"trained\"},"
                    + "{\"name\":\"de\",\"path\":\"adapters/de\",\"status\":\"existing\"},"
                    + "{\"name\":\"es\",\"path\":\"adapters/es\",\"status\":\"trained\"}");
            JsonNode r = s.complete(echoBody("es", TEXT));
            assertEquals("es", r.path("model").asText());
            assertEquals(scoreLoss(base, out, "es", TEXT), Served.meanEchoedLoss(r), 1e-4);
            assertEquals(List.of("base", "fr", "de", "es", "auto"), ids(s));
        }
    }

    @Test
    void concurrentRequestsForAnAdapterBeingLoadedWaitForOneLoad(@TempDir Path out) throws Exception {
        BaseModel base = Checkpoints.load(MODEL);
        ServeFixtures.writeAdapters(base, out, 2);
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults())) {
            assertEquals(0, s.metric("sparklora_adapter_cache_loads_total"));
            java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(16);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<JsonNode>> replies = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                replies.add(clients.submit(() -> {
                    go.await();
                    return s.complete(echoBody("a1", TEXT));
                }));
            }
            go.countDown();
            double expected = scoreLoss(base, out, "a1", TEXT);
            for (var f : replies) {
                assertEquals(expected, Served.meanEchoedLoss(f.get()), 1e-4);
            }
            clients.shutdown();
            assertEquals(1, s.metric("sparklora_adapter_cache_loads_total"), "16 requests at once, one load");
        }
    }

    static void writeManifest(Path out, String adapters) throws Exception {
        Path tmp = out.resolve("manifest.json.tmp");
        Files.writeString(tmp, "{\"format_version\":1,\"adapters\":[" + adapters + "],\"skipped\":[]}",
                StandardCharsets.UTF_8);
        Files.move(tmp, out.resolve("manifest.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static List<String> ids(Served s) throws Exception {
        List<String> ids = new ArrayList<>();
        Served.JSON.readTree(s.get("/v1/models").body()).path("data").forEach(m -> ids.add(m.path("id").asText()));
        return ids;
    }
}
