package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.Checkpoints;
import io.sparklora.route.NgramRouter;
import io.sparklora.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing end to end on Spark {@code local[2]} (Kryo registration required) over a tiny LLaMA: the router {@code train}
 * fits, its accuracy on held-out windows; {@code score --data} and {@code generate --data} against the single-input
 * commands row by row; routed rows against the router and against the loss router; bad input.
 */
class RoutedDatasetTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path model;
    static Path out; // two adapters, "ab" and "xy", trained on letter strings of two alphabets

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "RoutedDatasetTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        List<Map<String, Object>> rows = new ArrayList<>();
        Random rng = new Random(1);
        for (int i = 0; i < 60; i++) {
            rows.add(Map.of("lang", "ab", "text", words(rng, "abcde", 40)));
            rows.add(Map.of("lang", "xy", "text", words(rng, "vwxyz", 40)));
        }
        out = train(shared.resolve("by-lang"), write(shared.resolve("data.jsonl"), rows));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void trainFitsARouterAndReportsItsAccuracyOnEachPartitionsHeldOutWindows() throws IOException {
        JsonNode manifest = JSON.readTree(out.resolve("manifest.json").toFile());
        JsonNode router = manifest.path("router");
        assertEquals("router.json", router.path("path").asText());
        assertTrue(Files.exists(out.resolve("router.json")));
        for (JsonNode a : router.path("per_adapter")) {
            JsonNode training = JSON.readTree(out.resolve("adapters").resolve(a.path("name").asText())
                    .resolve("training.json").toFile());
            // exactly the windows training held out (and evaluated the adapter on), none of its training windows
            assertEquals(training.path("data").path("held_out_windows").asLong(), a.path("held_out_windows").asLong());
            assertTrue(a.path("held_out_windows").asLong() > 0);
            assertEquals(1.0, a.path("accuracy").asDouble(), 0, a.toString()); // disjoint alphabets
            assertEquals(1.0, a.path("accuracy_first_32_tokens").asDouble(), 0, a.toString());
        }
        JsonNode file = JSON.readTree(out.resolve("router.json").toFile());
        for (JsonNode c : file.path("classes")) {
            JsonNode training = JSON.readTree(out.resolve("adapters").resolve(c.path("name").asText())
                    .resolve("training.json").toFile());
            assertEquals(training.path("data").path("train_windows").asLong(), c.path("examples").asLong(),
                    "fitted on the training windows only");
        }
        assertEquals(router.path("accuracy"), file.path("held_out").path("accuracy"));
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("<h2>Routing</h2>") && html.contains("100.0 %"), html);
    }

    @Test
    void withKeysUnrelatedToTheTextHeldOutAccuracyIsChanceWhileTheTrainingRowsAreMemorised(@TempDir Path tmp)
            throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        Random rng = new Random(2);
        for (int i = 0; i < 120; i++) {
            rows.add(Map.of("lang", rng.nextBoolean() ? "p" : "q", "text", words(rng, "abcdefghij", 30)));
        }
        Path noise = train(tmp.resolve("noise"), write(tmp.resolve("noise.jsonl"), rows), "--steps", "2");
        JsonNode router = JSON.readTree(noise.resolve("manifest.json").toFile()).path("router");
        double heldOut = router.path("accuracy").asDouble();
        NgramRouter fitted = NgramRouter.read(Files.readAllBytes(noise.resolve("router.json")), "router.json");
        int memorised = 0;
        for (Map<String, Object> r : rows) {
            memorised += fitted.route(new ByteTokenizer().encode((String) r.get("text"))).equals(r.get("lang")) ? 1 : 0;
        }
        double onTraining = memorised / (double) rows.size();
        System.out.println("random keys: router accuracy " + onTraining + " on the training rows, " + heldOut
                + " on the held-out windows");
        assertTrue(onTraining > 0.75, "the router memorises its training rows: " + onTraining);
        assertTrue(heldOut < 0.7, "held-out windows are not training windows: accuracy " + heldOut + " over "
                + router.path("held_out_windows") + " windows");
    }

    @Test
    void scoreOverADatasetEqualsTheSingleFileScoreOfEveryRow(@TempDir Path tmp) throws Exception {
        Random rng = new Random(3);
        List<Map<String, Object>> rows = new ArrayList<>();
        String[] adapterValues = {"ab", "xy", "base", "auto", "", null, "auto", "xy"};
        for (int i = 0; i < adapterValues.length; i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("id", i);
            r.put("text", words(rng, i % 2 == 0 ? "abcde" : "vwxyz", 12 + 7 * i));
            if (adapterValues[i] != null) {
                r.put("use", adapterValues[i]);
            }
            rows.add(r);
        }
        rows.add(new LinkedHashMap<>(Map.of("id", 8, "text", "a", "use", "ab"))); // one token: nothing to score
        Path data = write(tmp.resolve("rows.jsonl"), rows);
        Path result = tmp.resolve("scored.jsonl");
        CliTest.Run run = cli("score", "--model", model.toString(), "--adapters", out.toString(), "--data",
                data.toString(), "--adapter-column", "use", "--out", result.toString());
        assertEquals(0, run.status(), run.err());
        List<JsonNode> scored = readJsonl(result);
        assertEquals(rows.size(), scored.size());
        NgramRouter router = NgramRouter.read(Files.readAllBytes(out.resolve("router.json")), "router.json");
        for (int i = 0; i < adapterValues.length; i++) {
            JsonNode r = scored.get(i);
            assertEquals(i, r.path("id").asInt(), "input order kept");
            String text = r.path("text").asText();
            boolean routed = adapterValues[i] == null || adapterValues[i].isEmpty() || adapterValues[i].equals("auto");
            String expected = routed ? router.route(new ByteTokenizer().encode(text)) : adapterValues[i];
            if (routed) {
                assertEquals(i % 2 == 0 ? "ab" : "xy", expected, "the router knows the alphabets");
            }
            assertEquals(expected, r.path("adapter").asText());
            assertEquals(routed, r.path("routed").asBoolean());
            JsonNode local = localScore(tmp, text, expected.equals("base") ? null : expected);
            assertEquals(local.path("mean_loss").asDouble(), r.path("loss").asDouble(), 1e-6, r.toString());
            assertEquals(local.path("tokens_scored").asLong(), r.path("tokens").asLong());
            assertTrue(r.path("error").isNull());
        }
        JsonNode tooShort = scored.get(8);
        assertTrue(tooShort.path("loss").isNull());
        assertEquals("Cannot score the row: need at least 2 tokens, got 1", tooShort.path("error").asText());

        // Without router.json, auto picks the adapter with the lowest loss on the row.
        Path noRouter = copyWithoutRouter(tmp.resolve("no-router"));
        Path byLoss = tmp.resolve("by-loss.parquet");
        run = cli("score", "--model", model.toString(), "--adapters", noRouter.toString(), "--data", data.toString(),
                "--adapter-column", "use", "--out", byLoss.toString());
        assertEquals(0, run.status(), run.err());
        // the schema given: Spark's inference would send a StructType through Kryo, unregistered here
        List<Row> parquet = spark.read().schema("id BIGINT, text STRING, use STRING, adapter STRING, routed BOOLEAN, "
                + "loss DOUBLE, tokens BIGINT, error STRING").parquet(byLoss.toString()).orderBy("id").collectAsList();
        for (Row r : parquet) {
            if (!r.getAs("routed").equals(Boolean.TRUE)) {
                continue;
            }
            String text = r.getAs("text");
            double ab = localScore(tmp, text, "ab").path("mean_loss").asDouble();
            double xy = localScore(tmp, text, "xy").path("mean_loss").asDouble();
            assertEquals(ab <= xy ? "ab" : "xy", r.getAs("adapter"), text);
            assertEquals(Math.min(ab, xy), (double) r.getAs("loss"), 1e-6);
        }
    }

    @Test
    void greedyGenerateOverADatasetEqualsTheSinglePromptGenerate(@TempDir Path tmp) throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        String[] prompts = {"abc de", "vwx yz", "ab", "zz vw", "e"};
        String[] use = {"ab", "xy", "base", "auto", "auto"};
        for (int i = 0; i < prompts.length; i++) {
            rows.add(new LinkedHashMap<>(Map.of("id", i, "p", prompts[i], "use", use[i])));
        }
        Path result = tmp.resolve("generated.jsonl");
        CliTest.Run run = cli("generate", "--model", model.toString(), "--adapters", out.toString(), "--data",
                write(tmp.resolve("prompts.jsonl"), rows).toString(), "--adapter-column", "use", "--prompt-column",
                "p", "--max-tokens", "16", "--out", result.toString());
        assertEquals(0, run.status(), run.err());
        List<JsonNode> generated = readJsonl(result);
        assertEquals("xy", generated.get(3).path("adapter").asText(), "routed by the prompt's alphabet");
        for (JsonNode r : generated) {
            String adapter = r.path("adapter").asText();
            List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt",
                    r.path("p").asText(), "--max-new-tokens", "16"));
            if (!adapter.equals("base")) {
                args.addAll(List.of("--adapter", out.resolve("adapters").resolve(adapter).toString()));
            }
            CliTest.Run local = cli(args.toArray(String[]::new));
            assertEquals(0, local.status(), local.err());
            assertEquals(local.out(), r.path("completion").asText() + System.lineSeparator(), r.toString());
            assertEquals(16, r.path("completion_tokens").asInt());
            assertEquals("length", r.path("finish_reason").asText());
        }
    }

    @Test
    void serveRoutesAutoWithTheTrainedRouterAndOtherwiseByLoss(@TempDir Path tmp) throws Exception {
        String[] prompts = {"abcde abced", "vwxyz wvzyx"};
        Path noRouter = copyWithoutRouter(tmp.resolve("no-router"));
        Path stale = copyWithoutRouter(tmp.resolve("stale")); // a router whose adapters are gone
        io.sparklora.route.NgramCounts gone = new io.sparklora.route.NgramCounts("gone", 3, 64);
        gone.add(new int[] {97, 98}, 0, 2);
        Files.write(stale.resolve("router.json"), new NgramRouter(List.of(gone), 0.5).toJson(null));
        for (Path output : List.of(out, noRouter, stale)) {
            try (io.sparklora.serve.OpenAiServer server = io.sparklora.serve.OpenAiServer.start(model,
                    new io.sparklora.driver.HadoopAdapterStorage(output.toString(),
                            new org.apache.hadoop.conf.Configuration()),
                    io.sparklora.serve.ServeOptions.defaults().withPort(0))) {
                for (String prompt : prompts) {
                    java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                                    + server.port() + "/v1/completions")).header("Content-Type", "application/json")
                                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                                            Map.of("model", "auto", "prompt", prompt, "max_tokens", 1)))).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode(), response.body());
                    String expected = prompt.startsWith("a") ? "ab" : "xy"; // what the router learnt
                    if (output != out) { // the loss router: the adapter whose own loss is lowest
                        double ab = localScore(tmp, prompt, "ab").path("mean_loss").asDouble();
                        double xy = localScore(tmp, prompt, "xy").path("mean_loss").asDouble();
                        expected = ab <= xy ? "ab" : "xy";
                    }
                    assertEquals(expected, JSON.readTree(response.body()).path("model").asText(), output + ": "
                            + prompt);
                }
            }
        }
    }

    @Test
    void unknownAdapterNamesAndMissingColumnsFailBeforeAnyOutput(@TempDir Path tmp) throws IOException {
        Path data = write(tmp.resolve("rows.jsonl"), List.of(Map.of("text", "abc abc", "use", "ab"),
                Map.of("text", "vwx", "use", "klingon"), Map.of("text", "vwx", "use", "elvish")));
        Path result = tmp.resolve("r.jsonl");
        CliTest.Run run = cli("score", "--model", model.toString(), "--adapters", out.toString(), "--data",
                data.toString(), "--adapter-column", "use", "--out", result.toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("Cannot score: column 'use' of " + data + " names adapter(s) [elvish, klingon] "
                + "that " + out + " does not have; it has [ab, xy] (or use base, or auto to route)"), run.err());
        run = cli("generate", "--model", model.toString(), "--adapters", out.toString(), "--data", data.toString(),
                "--adapter-column", "lang", "--prompt-column", "text", "--out", result.toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("Cannot generate: column 'lang' is not in the data " + data
                + "; its columns are [text, use]"), run.err());
        run = cli("score", "--model", model.toString(), "--data", data.toString(), "--adapter-column", "use",
                "--out", result.toString());
        assertEquals(2, run.status(), "a usage error");
        assertTrue(run.err().contains("Cannot score --data " + data + ": --adapters is missing"), run.err());
        run = cli("score", "--model", model.toString(), "--adapters", out.toString(), "--data", data.toString(),
                "--adapter-column", "use", "--out", tmp.resolve("r.csv").toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("name it *.jsonl or *.parquet, or pass --format"), run.err());
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(data), files.toList(), "no output, no temporary files");
        }
        assertFalse(Files.exists(result));
    }

    private static Path train(Path dir, Path data, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--rank", "4", "--steps", "20", "--batch", "4", "--seq", "32", "--lr",
                "1e-2", "--held-out", "0.2", "--out", dir.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            args.set(args.indexOf(extra[i]) + 1, extra[i + 1]);
        }
        CliTest.Run run = cli(args.toArray(String[]::new));
        assertEquals(0, run.status(), run.err() + run.out());
        return dir;
    }

    private static JsonNode localScore(Path tmp, String text, String adapter) throws Exception {
        Path file = Files.createTempFile(tmp, "row", ".txt");
        Files.writeString(file, text);
        return JSON.readTree(adapter == null ? score("--text-file", file.toString())
                : score("--text-file", file.toString(), "--adapter", out.resolve("adapters").resolve(adapter)
                .toString()));
    }

    private static String score(String... args) {
        List<String> all = new ArrayList<>(List.of("score", "--model", model.toString()));
        all.addAll(List.of(args));
        CliTest.Run run = cli(all.toArray(String[]::new));
        assertEquals(0, run.status(), run.err());
        return run.out().strip();
    }

    private static Path copyWithoutRouter(Path dir) throws IOException {
        try (var walk = Files.walk(out)) {
            for (Path p : walk.toList()) {
                Path to = dir.resolve(out.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.getFileName().toString().matches("\\.?router\\.json(\\.crc)?")) { // and its checksum
                    Files.copy(p, to);
                }
            }
        }
        return dir;
    }

    private static String words(Random rng, String alphabet, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(i % 6 == 5 ? ' ' : alphabet.charAt(rng.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    private static Path write(Path file, List<Map<String, Object>> rows) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            lines.add(JSON.writeValueAsString(new HashMap<>(r)));
        }
        return Files.write(file, lines);
    }

    private static List<JsonNode> readJsonl(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }
}
