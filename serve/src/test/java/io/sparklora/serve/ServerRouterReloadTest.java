package io.sparklora.serve;

import static io.sparklora.serve.ServeFixtures.MODEL;
import static io.sparklora.serve.ServeFixtures.echoBody;
import static io.sparklora.serve.ServeFixtures.scoreLoss;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.route.NgramCounts;
import io.sparklora.route.NgramRouter;
import io.sparklora.tokenizer.ByteTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second {@code train} into the output the server reads — a new adapter, the manifest and router.json replaced
 * by renames, as train commits them — is served without a restart: the new adapter by name, and {@code auto} routes
 * its partition's prompts to it because the changed router.json is reloaded. Before the second train, the same
 * prompt routes to one of the first train's adapters (so the reload, not the old router, chose the new one).
 */
class ServerRouterReloadTest {
    private static final String[][] TEXTS = {
        {"fr", "Le chat dort sur le canapé pendant que la pluie tombe doucement sur les toits de la ville."},
        {"de", "Die Katze schläft auf dem Sofa, während der Regen leise auf die Dächer der Stadt fällt."},
        {"es", "El gato duerme en el sofá mientras la lluvia cae suavemente sobre los tejados de la ciudad."}};
    private static final String SPANISH = "El gato duerme mientras la lluvia cae sobre los tejados.";

    @Test
    void aSecondTrainsAdapterAndRouterAreServedWithoutRestart(@TempDir Path out) throws Exception {
        BaseModel base = Checkpoints.load(MODEL);
        ServeFixtures.writeAdapter(base, out, "fr", 1);
        ServeFixtures.writeAdapter(base, out, "de", 2);
        commit(out, 2);
        try (Served s = Served.start(MODEL, out, ServeOptions.defaults())) {
            JsonNode before = s.complete(echoBody("auto", SPANISH));
            String first = before.path("model").asText();
            assertEquals(true, first.equals("fr") || first.equals("de"), "routed to " + first);
            Served.assertError(s.post("/v1/completions", echoBody("es", SPANISH)), 404,
                    "The model `es` does not exist.");

            ServeFixtures.writeAdapter(base, out, "es", 3); // the second train: its adapter, then its commit
            commit(out, 3);
            JsonNode routed = s.complete(echoBody("auto", SPANISH));
            assertEquals("es", routed.path("model").asText(), "auto after the new router.json");
            assertEquals(scoreLoss(base, out, "es", SPANISH), Served.meanEchoedLoss(routed), 1e-4);
            JsonNode named = s.complete(echoBody("es", SPANISH));
            assertEquals(scoreLoss(base, out, "es", SPANISH), Served.meanEchoedLoss(named), 1e-4);
            assertEquals(List.of("base", "fr", "de", "es", "auto"), ServerCacheTest.ids(s));
            assertEquals("fr", s.complete(echoBody("auto", "Le chat dort sur le canapé.")).path("model").asText());
        }
    }

    /** What train commits for the first {@code n} partitions: router.json, then manifest.json, each by a rename. */
    private static void commit(Path out, int n) throws Exception {
        List<NgramCounts> classes = new ArrayList<>();
        StringBuilder entries = new StringBuilder();
        for (int i = 0; i < n; i++) {
            NgramCounts c = new NgramCounts(TEXTS[i][0], NgramRouter.DEFAULT_ORDER, NgramRouter.DEFAULT_BUCKETS);
            int[] ids = new ByteTokenizer().encode(TEXTS[i][1]);
            c.add(ids, 0, ids.length);
            classes.add(c);
            entries.append(i == 0 ? "" : ",").append("{\"name\":\"").append(TEXTS[i][0]).append("\",\"path\":\"adapters/")
                    .append(TEXTS[i][0]).append("\",\"status\":\"trained\"}");
        }
        Path tmp = out.resolve("router.json.tmp");
        Files.write(tmp, new NgramRouter(classes, NgramRouter.DEFAULT_ALPHA).toJson(null));
        Files.move(tmp, out.resolve(NgramRouter.FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        ServerCacheTest.writeManifest(out, entries.toString());
    }
}
