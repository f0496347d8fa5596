package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.TrainRow;
import io.sparklora.eval.Scorer;
import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.WindowPacker;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.nn.CausalLms;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.serve.AdapterCatalog;
import io.sparklora.serve.LocalAdapterStorage;
import io.sparklora.serve.OpenAiServer;
import io.sparklora.serve.ServeOptions;
import io.sparklora.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --tree} on Spark {@code local[2]}: a 3-level tree (root → romance(es, it) → es, it; root → de), its
 * node adapters, leaf paths, manifest, re-runs and serve's view; the OpenAI server over HTTP on a tree output; and
 * every bad tree file.
 */
class TreeTrainTest {
    static final String[] KEYS = {"es", "it", "de"};
    static final String[] SENTENCES = {"el perro come la manzana. ", "il cane mangia la mela. ",
            "der hund isst den apfel. "};
    static final String TREE = """
            nodes:
              - name: root
              - {name: romance, parent: root, keys: [es, it]}
              - {name: es, parent: romance, keys: [es]}
              - {name: it, parent: romance, keys: [it]}
              - {name: de, parent: root, keys: [de]}
            """;
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path model;
    static Path data;
    static Map<String, List<String>> rows = new HashMap<>();

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "TreeTrainTest", 4);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = shared.resolve("data.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < KEYS.length; k++) {
                String text = SENTENCES[k].repeat(1 + i % 3) + i;
                rows.computeIfAbsent(KEYS[k], x -> new ArrayList<>()).add(text);
                lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("lang", KEYS[k], "text", text)));
            }
        }
        Files.write(data, lines);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static String[] train(Path out, Path tree, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--tree", tree.toString(), "--rank", "2", "--steps", "12", "--batch", "4",
                "--seq", "32", "--lr", "1e-2", "--held-out", "0.25", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void threeLevelTreeTrainsNodesOverTheirAncestorsAndFlattensEachLeafPath(@TempDir Path tmp) throws Exception {
        Path tree = tmp.resolve("tree.yaml");
        Files.writeString(tree, TREE);
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out, tree));
        assertEquals(0, run.status(), run.err() + run.out());
        assertTrue(run.out().contains("Level 0: training 1 node(s) [root]"), run.out());
        assertTrue(run.out().contains("Level 1: training 2 node(s) [romance, de]"), run.out());
        assertTrue(run.out().contains("Level 2: training 2 node(s) [es, it]"), run.out());

        JsonNode m = TrainCommandTest.manifest(out);
        Map<String, JsonNode> nodes = new HashMap<>();
        m.path("adapters").forEach(a -> nodes.put(a.path("name").asText(), a));
        assertEquals(5, nodes.size());
        assertEquals(48, nodes.get("root").path("rows").asLong());
        assertEquals(32, nodes.get("romance").path("rows").asLong());
        assertEquals(16, nodes.get("es").path("rows").asLong());
        assertEquals("romance", nodes.get("es").path("parent").asText());
        assertEquals(2, nodes.get("es").path("level").asInt());
        assertEquals("[\"es\",\"it\"]", nodes.get("romance").path("keys").toString());
        for (JsonNode n : nodes.values()) {
            assertEquals("trained", n.path("status").asText(), n.toString());
            // each node improves on what it starts from: its ancestors alone on its held-out windows
            assertTrue(n.path("final_held_out_loss").asDouble() < n.path("base_held_out_loss").asDouble(),
                    n.toString());
        }
        // a child starts where its parent ended on the child's windows: romance's start is below root's base
        assertTrue(nodes.get("romance").path("base_held_out_loss").asDouble()
                < nodes.get("root").path("base_held_out_loss").asDouble());

        BaseModel base = Checkpoints.load(model);
        Map<String, Integer> expectedRank = Map.of("es", 6, "it", 6, "de", 4);
        assertEquals(3, m.path("paths").size());
        for (JsonNode p : m.path("paths")) {
            String leaf = p.path("name").asText();
            assertEquals(expectedRank.get(leaf), p.path("rank").asInt(), p.toString());
            assertEquals("trained", p.path("status").asText());
            assertEquals("paths/" + leaf, p.path("path").asText());
            LoraAdapter path = PeftAdapters.read(out.resolve("paths").resolve(leaf), base.config());
            path.modules().values().forEach(mod -> assertEquals(expectedRank.get(leaf), mod.rank()));
            // the path alone, on the leaf key's held-out windows, scores what the leaf node scored over its ancestors
            assertEquals(nodes.get(leaf).path("final_held_out_loss").asDouble(), heldOutLoss(base, path, leaf),
                    1e-4, leaf);
        }
        // eval on a tree output scores the leaf paths on every key's held-out windows: the diagonal is the leaves'
        Path evalOut = tmp.resolve("eval.json");
        CliTest.Run eval = CliTest.cli("eval", "--model", model.toString(), "--adapters", out.toString(), "--out",
                evalOut.toString());
        assertEquals(0, eval.status(), eval.err());
        JsonNode matrix = TrainCommandTest.JSON.readTree(evalOut.toFile());
        List<String> columns = TrainCommandTest.JSON.convertValue(matrix.path("columns"), List.class);
        for (JsonNode row : matrix.path("rows")) {
            String leaf = row.path("adapter").asText();
            if (!leaf.equals("base")) {
                assertEquals(nodes.get(leaf).path("final_held_out_loss").asDouble(),
                        row.path("loss").get(columns.indexOf(leaf)).asDouble(), 1e-4, leaf);
            }
        }
        assertEquals(4, matrix.path("rows").size()); // es, it, de and the base
        // serve offers the leaf paths under the leaf names
        assertEquals(Map.of("es", "paths/es", "it", "paths/it", "de", "paths/de"),
                new AdapterCatalog(new LocalAdapterStorage(out)).adapters());

        // a re-run trains nothing; a root with fewer keys retrains the whole tree (children fingerprint it)
        CliTest.Run again = CliTest.cli(train(out, tree));
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("5 node(s) in 3 level(s), 0 to train"), again.out());
        Files.writeString(tree, TREE.replace("- name: root", "- {name: root, keys: [es, it]}")
                .replace("{name: de, parent: root, keys: [de]}", "{name: de, parent: romance, keys: [de]}"));
        CliTest.Run changed = CliTest.cli(train(out, tree));
        assertEquals(0, changed.status(), changed.err());
        assertTrue(changed.out().contains("5 node(s) in 3 level(s), 5 to train"), changed.out());
        JsonNode m2 = TrainCommandTest.manifest(out);
        m2.path("paths").forEach(p -> assertEquals(6, p.path("rank").asInt()));

        // --path-rank: paths compressed by SVD, the error reported, the nodes kept
        CliTest.Run svd = CliTest.cli(train(out, tree, "--path-rank", "3"));
        assertEquals(0, svd.status(), svd.err());
        for (JsonNode p : TrainCommandTest.manifest(out).path("paths")) {
            assertEquals(3, p.path("rank").asInt());
            double err = p.path("svd_max_relative_error").asDouble();
            assertTrue(err > 0 && err < 1, p.toString());
        }
        assertTrue(svd.out().contains("0 to train"), svd.out());

        // --existing fail: a changed romance changes its whole subtree's fingerprints; refused before training
        Files.writeString(tree, Files.readString(tree).replace("{name: romance, parent: root, keys: [es, it]}",
                "{name: romance, parent: root, keys: [es]}"));
        CliTest.Run refused = CliTest.cli(train(out, tree, "--existing", "fail"));
        assertEquals(1, refused.status(), refused.out());
        assertEquals("Error: Cannot train: --existing fail and 4 node(s) of file:" + out + " were made differently: "
                + "romance (data changed); es (data changed); it (data changed); de (data changed)",
                refused.err().strip());
    }

    @Test
    void serveOnATreeOutputOffersTheLeafPathsUnderTheLeafNamesOverHttp(@TempDir Path tmp) throws Exception {
        Path tree = tmp.resolve("tree.yaml");
        Files.writeString(tree, TREE);
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out, tree));
        assertEquals(0, run.status(), run.err() + run.out());
        BaseModel base = Checkpoints.load(model);
        String text = SENTENCES[0] + SENTENCES[1]; // 49 bytes: one window of the tiny model's 64 positions
        HttpClient http = HttpClient.newHttpClient();
        // the storage and options the serve command builds for --adapters OUT
        try (OpenAiServer server = OpenAiServer.start(model, ServeCommand.adapterStorage(out.toString()),
                ServeOptions.defaults().withPort(0))) {
            URI url = URI.create("http://127.0.0.1:" + server.port());
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(url.resolve("/v1/models")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, models.statusCode(), models.body());
            List<String> ids = new ArrayList<>();
            TrainCommandTest.JSON.readTree(models.body()).path("data").forEach(m -> ids.add(m.path("id").asText()));
            assertEquals(5, ids.size(), ids.toString()); // base, the three leaves, auto; not root or romance
            assertEquals("base", ids.get(0), ids.toString());
            assertEquals("auto", ids.get(4), ids.toString());
            assertEquals(java.util.Set.of("es", "it", "de"), new java.util.HashSet<>(ids.subList(1, 4)));

            for (String leaf : List.of("es", "it", "de")) {
                HttpResponse<String> r = complete(http, url, leaf, text);
                assertEquals(200, r.statusCode(), r.body());
                JsonNode lp = TrainCommandTest.JSON.readTree(r.body()).path("choices").get(0).path("logprobs")
                        .path("token_logprobs");
                assertEquals(text.length(), lp.size(), r.body());
                assertTrue(lp.get(0).isNull(), "the first prompt token has no log-prob");
                double served = 0;
                for (int i = 1; i < lp.size(); i++) {
                    served -= lp.get(i).asDouble();
                }
                served /= lp.size() - 1;
                // the reference: the training forward (no KV cache) through score's Scorer, on paths/<leaf> alone
                double path = scoreLoss(base, out.resolve("paths").resolve(leaf), text);
                assertEquals(path, served, 1e-4, leaf);
                // and not the leaf's own delta without its ancestors, which scores differently
                double node = scoreLoss(base, out.resolve("adapters").resolve(leaf), text);
                assertTrue(Math.abs(node - served) > 1e-3, leaf + ": served " + served + ", node alone " + node);
            }
            for (String inner : List.of("root", "romance")) {
                HttpResponse<String> r = complete(http, url, inner, text);
                assertEquals(404, r.statusCode(), r.body());
                JsonNode e = TrainCommandTest.JSON.readTree(r.body()).path("error");
                assertEquals("The model `" + inner + "` does not exist.", e.path("message").asText(), r.body());
                assertEquals("invalid_request_error", e.path("type").asText(), r.body());
                assertEquals("model", e.path("param").asText(), r.body());
                assertEquals("model_not_found", e.path("code").asText(), r.body());
            }
        }
    }

    /** POST /v1/completions for the prompt's log-probabilities only (echo, no new tokens), as lm-eval sends it. */
    private static HttpResponse<String> complete(HttpClient http, URI url, String model, String prompt)
            throws Exception {
        String body = TrainCommandTest.JSON.writeValueAsString(Map.of("model", model, "prompt", prompt, "echo", true,
                "max_tokens", 0, "logprobs", 1));
        return http.send(HttpRequest.newBuilder(url.resolve("/v1/completions")).header("Content-Type",
                "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** What {@code score --adapter DIR} reports for {@code text}: the mean loss of its one window. */
    private static double scoreLoss(BaseModel base, Path adapter, String text) throws IOException {
        return new Scorer(text.length()).score(CausalLms.withAdapter(base, PeftAdapters.read(adapter, base.config())),
                new ByteTokenizer().encode(text), text).meanLoss();
    }

    /** The mean held-out loss of {@code adapter} on the held-out windows a flat adapter of {@code key} holds out. */
    static double heldOutLoss(BaseModel base, LoraAdapter adapter, String key) {
        ByteTokenizer tok = new ByteTokenizer();
        List<TrainRow> r = new ArrayList<>(rows.get(key).stream().map(t -> new TrainRow(t, null, null)).toList());
        r.sort(TrainRow.ORDER);
        PackedData packed = new WindowPacker(tok, 32).packEncoded(key, r.stream().map(x -> x.encoded(tok))
                .iterator(), 0.25, 42);
        TrainSpec spec = TrainSpec.lora(key, LoraConfig.defaults()).batchSize(4).seqLen(32).steps(1).build();
        return AdapterTrainer.lora(spec, base, adapter, packed).heldOutLoss();
    }

    @Test
    void everyBadTreeFileFailsBeforeTrainingWithOneClearMessageAndNoOutput(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        Path f = tmp.resolve("t.yaml");
        bad(out, f, "nodes:\n  - {name: a, parent: b}\n  - {name: b, parent: a}\n",
                "Cannot read tree " + f + ": its parents form a cycle: a -> b -> a");
        bad(out, f, "nodes:\n  - {name: a}\n  - {name: b, parent: x}\n",
                "Cannot read tree " + f + ": node b has parent x, which is not a node (nodes: a, b)");
        bad(out, f, "nodes:\n  - {name: a}\n  - {name: a}\n", "Cannot read tree " + f + ": two nodes are named a");
        bad(out, f, "nodes: []\n", "Cannot read tree " + f + ": it has no nodes (expected nodes: [{name: root}, "
                + "...])");
        bad(out, f, "nodes:\n  - {name: a}\n  - {name: b, parent: a, keys: [es, fr]}\n", "Cannot train tree " + f
                + ": node b lists key fr, which the data " + data + " does not have (its keys: de, es, it)");
        bad(out, f, "nodes:\n  - {name: a, keys: [no]}\n", "Cannot train tree " + f + ": node a lists key no, which "
                + "the data " + data + " does not have (its keys: de, es, it)");
        assertEquals("Error: Cannot read tree " + tmp.resolve("none.yaml") + ": no such file",
                CliTest.cli(train(out, tmp.resolve("none.yaml"))).err().strip());
        assertEquals("Error: Invalid --path-rank 2: it needs --tree", CliTest.cli("train", "--model",
                model.toString(), "--data", data.toString(), "--partition-by", "lang", "--path-rank", "2", "--out",
                out.toString()).err().strip());
        Files.writeString(f, TREE);
        CliTest.Run zero = CliTest.cli(train(out, f, "--path-rank", "0"));
        assertEquals(1, zero.status(), zero.out());
        assertEquals("Error: Invalid --path-rank 0: must be >= 1", zero.err().strip());
        assertFalse(Files.exists(out), "no output on a bad tree");
    }

    private static void bad(Path out, Path file, String yaml, String message) throws IOException {
        Files.writeString(file, yaml);
        CliTest.Run run = CliTest.cli(train(out, file));
        assertEquals(1, run.status(), run.out());
        assertEquals("Error: " + message, run.err().strip());
    }
}
