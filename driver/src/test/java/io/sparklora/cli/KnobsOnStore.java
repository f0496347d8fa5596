package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.LocalUploads;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.serve.OpenAiServer;
import io.sparklora.serve.ServeOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * The seed's knobs with every input and output on one remote store, checked the same way for each store
 * ({@link KnobsHdfsTest}, {@link KnobsS3Test}): the tiny model, two keys' rows and a tree file are copied there;
 * {@code sweep --full} writes plane.json, the plane's report and the corner's own report; {@code train --tree} reads
 * its YAML file from the store and writes the nodes and the leaf paths; {@code train --rank auto} writes the chosen
 * adapters and the manifest's {@code rank_search}; {@code report} re-renders the tree's report on the store and the
 * OpenAI server serves its leaves from there. What is checked is what the local runs' tests check of the same
 * files, fetched back, and that no temporary directory is left beside the outputs.
 */
final class KnobsOnStore {
    private KnobsOnStore() {
    }

    /**
     * Runs the three commands on the store {@code fs}, whose location {@code key} is {@code uri.apply(key)}; the
     * commands must already reach it (HDFS by its URI, S3 by {@code spark.hadoop.*} system properties).
     */
    static void sweepTreeAndRankSearch(Path tmp, FileSystem fs, Function<String, URI> uri) throws Exception {
        Path data = TrainCommandTest.tinyModelAndTwoKeys(tmp);
        Path model = tmp.resolve("model");
        Path tree = tmp.resolve("tree.yaml");
        Files.writeString(tree, "nodes:\n  - name: root\n  - {name: c, parent: root, keys: [cat]}\n"
                + "  - {name: m, parent: root, keys: [market]}\n");
        // file by file through the product's upload (hadoop-aws's bulk copyFromLocalFile signs its async PUTs in a
        // way S3Proxy rejects: XAmzContentSHA256Mismatch)
        try (var walk = Files.walk(model)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                LocalUploads.put(fs, f, new org.apache.hadoop.fs.Path(uri.apply("model/" + f.getFileName())));
            }
        }
        for (Path f : new Path[] {data, tree}) {
            LocalUploads.put(fs, f, new org.apache.hadoop.fs.Path(uri.apply(f.getFileName().toString())));
        }
        List<String> common = List.of("--model", uri.apply("model").toString(), "--data",
                uri.apply("rows.jsonl").toString(), "--partition-by", "lang", "--steps", "4", "--batch", "2",
                "--seq", "32", "--lr", "3e-3", "--master", "local[2]");

        String plane = uri.apply("runs/plane").toString();
        CliTest.Run sweep = cli("sweep", common, "--ranks", "1", "--targets-grid", "q_proj,v_proj", "--full",
                "--out", plane);
        assertEquals(0, sweep.status(), sweep.err() + sweep.out());
        Path planeLocal = fetch(fs, plane, tmp.resolve("plane"));
        JsonNode points = TrainCommandTest.JSON.readTree(planeLocal.resolve("plane.json").toFile()).path("points");
        assertEquals(4, points.size(), points.toString()); // 2 keys x (q_proj,v_proj r1 + the full corner)
        for (JsonNode p : points) {
            assertTrue(p.path("held_out_loss").isNumber(), p.toString());
            assertTrue(Files.isDirectory(planeLocal.resolve(p.path("path").asText())), p.toString());
        }
        assertTrue(Files.size(planeLocal.resolve("report/plane-frontier.png")) > 1000);
        assertTrue(Files.readString(planeLocal.resolve("report/index.html")).contains("<h2>Plane</h2>"));
        FullTrainReportCheck.check(planeLocal.resolve("points/full"));

        String treeOut = uri.apply("runs/tree").toString();
        CliTest.Run trained = cli("train", common, "--tree", uri.apply("tree.yaml").toString(), "--rank", "2",
                "--out", treeOut);
        assertEquals(0, trained.status(), trained.err() + trained.out());
        Path treeLocal = fetch(fs, treeOut, tmp.resolve("tree"));
        JsonNode m = TrainCommandTest.manifest(treeLocal);
        assertEquals(3, m.path("adapters").size());
        assertEquals(2, m.path("paths").size());
        for (JsonNode p : m.path("paths")) {
            assertEquals("trained", p.path("status").asText(), p.toString());
            assertEquals(4, PeftAdapters.read(treeLocal.resolve(p.path("path").asText()),
                    TrainCommandTest.TINY).module("model.layers.0.self_attn.q_proj").rank(), "root + leaf");
        }
        // report and serve reach the store as train does (for s3a://: the spark.hadoop.* settings)
        org.apache.hadoop.fs.Path index = new org.apache.hadoop.fs.Path(uri.apply("runs/tree/report/index.html"));
        assertTrue(fs.delete(index, false));
        CliTest.Run report = CliTest.cli("report", "--out", treeOut);
        assertEquals(0, report.status(), report.err() + report.out());
        assertTrue(fs.exists(index), "report re-rendered the tree output's report on the store");
        try (OpenAiServer server = OpenAiServer.start(model, ServeCommand.adapterStorage(treeOut),
                ServeOptions.defaults().withPort(0))) {
            HttpClient http = HttpClient.newHttpClient();
            URI url = URI.create("http://127.0.0.1:" + server.port());
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(url.resolve("/v1/models")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, models.statusCode(), models.body());
            List<String> ids = new ArrayList<>();
            TrainCommandTest.JSON.readTree(models.body()).path("data").forEach(e -> ids.add(e.path("id").asText()));
            assertEquals(4, ids.size(), ids.toString()); // base, the leaves c and m, auto; not the root
            assertEquals(List.of("base", "auto"), List.of(ids.get(0), ids.get(3)), ids.toString());
            assertEquals(java.util.Set.of("c", "m"), java.util.Set.copyOf(ids.subList(1, 3)), ids.toString());
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(url.resolve("/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"m\",\"prompt\":\"the market\",\"max_tokens\":4}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, done.statusCode(), done.body());
            assertEquals("m", TrainCommandTest.JSON.readTree(done.body()).path("model").asText(), done.body());
        }

        String auto = uri.apply("runs/auto").toString();
        CliTest.Run searched = cli("train", common, "--rank", "auto", "--rank-max", "2", "--out", auto);
        assertEquals(0, searched.status(), searched.err() + searched.out());
        Path autoLocal = fetch(fs, auto, tmp.resolve("auto"));
        for (JsonNode a : TrainCommandTest.manifest(autoLocal).path("adapters")) {
            assertEquals(2, a.path("rank_search").size(), a.toString());
            assertEquals(a.path("rank").asInt(), PeftAdapters.read(autoLocal.resolve(a.path("path").asText()),
                    TrainCommandTest.TINY).module("model.layers.0.self_attn.q_proj").rank());
        }
        assertTrue(Files.isRegularFile(autoLocal.resolve("report/rank-search.csv")));

        List<String> runs = new ArrayList<>();
        for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(uri.apply("runs")))) {
            runs.add(st.getPath().getName());
        }
        runs.sort(null);
        assertEquals(List.of("auto", "plane", "tree"), runs, "the three outputs and no temporary directory");
        for (Path local : List.of(planeLocal, treeLocal, autoLocal)) {
            try (var walk = Files.walk(local)) {
                List<Path> left = walk.filter(f -> f.getFileName().toString().contains(".tmp")).toList();
                assertEquals(List.of(), left, "no temporary file or directory left in the output");
            }
        }
    }

    private static CliTest.Run cli(String command, List<String> common, String... extra) {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(common);
        args.addAll(List.of(extra));
        return CliTest.cli(args.toArray(String[]::new));
    }

    private static Path fetch(FileSystem fs, String uri, Path local) throws IOException {
        fs.copyToLocalFile(new org.apache.hadoop.fs.Path(uri), new org.apache.hadoop.fs.Path(local.toUri()));
        return local;
    }
}
