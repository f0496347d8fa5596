package io.sparklora.serve;

import static io.sparklora.serve.ServeFixtures.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --merge NAME}: the one adapter merged into the base answers with the unmerged adapter's log-probabilities
 * (within 1e-4) and greedy text, under its own name, and its engine runs no LoRA update ({@code /metrics}:
 * {@code sparklora_engine_lora_rows_total} stays 0 while the unmerged server's grows); nothing else but
 * {@code auto} is served.
 */
class ServerMergedTest {

    @Test
    void theMergedAdapterGivesTheUnmergedLogprobsAndText(@TempDir Path out) throws Exception {
        ServeFixtures.writeAdapters(Checkpoints.load(MODEL), out, 4);
        String body = "{\"model\":\"%s\",\"prompt\":\"Merged weights, same numbers: \",\"max_tokens\":24,"
                + "\"temperature\":0,\"echo\":true,\"logprobs\":1}";
        JsonNode unmerged;
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults())) {
            unmerged = s.complete(body.formatted("a3"));
            assertTrue(s.metric("sparklora_engine_lora_rows_total") > 0, "the unmerged adapter runs LoRA updates");
        }
        try (Served m = Served.start(MODEL, out, ServeOptions.defaults().withMerge("a3"))) {
            List<String> ids = new ArrayList<>();
            Served.JSON.readTree(m.get("/v1/models").body()).path("data").forEach(e -> ids.add(e.path("id").asText()));
            assertEquals(List.of("a3", "auto"), ids);
            for (String name : List.of("a3", "auto")) {
                JsonNode merged = m.complete(body.formatted(name));
                assertEquals("a3", merged.path("model").asText());
                JsonNode a = unmerged.path("choices").get(0);
                JsonNode b = merged.path("choices").get(0);
                assertEquals(a.path("text").asText(), b.path("text").asText());
                JsonNode la = a.path("logprobs").path("token_logprobs");
                JsonNode lb = b.path("logprobs").path("token_logprobs");
                assertEquals(la.size(), lb.size());
                for (int k = 1; k < la.size(); k++) {
                    assertEquals(la.get(k).asDouble(), lb.get(k).asDouble(), 1e-4, "token " + k);
                }
            }
            // the merged engine ran the base's path over every row, and no LoRA update at all
            assertTrue(m.metric("sparklora_engine_rows_total") > 0);
            assertEquals(0, m.metric("sparklora_engine_lora_rows_total"), "the merged server ran LoRA updates");
            Served.assertError(m.post("/v1/completions", body.formatted("a1")), 404, "The model `a1` does not exist.");
            Served.assertError(m.post("/v1/completions", body.formatted("base")), 404,
                    "The model `base` does not exist.");
        }
    }
}
