package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A key over {@code --spill-rows} trains from a window file on the executor's local disk instead of the heap: the
 * adapter is the same bytes as the in-memory run's, the router and {@code eval} read it the same way to the same
 * figures, and the file is gone afterwards. Spark {@code local[2,4]} with Kryo and registration required, as
 * {@link TrainCommandTest}.
 */
class StreamedKeyTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4", "k5", "k6"}; // key k has 12 + 3k rows
    static final Map<String, long[]> SIZES = new java.util.TreeMap<>(); // key → {rows, tokens}, counted here
    static SparkSession spark;

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "StreamedKeyTest", 4);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = shared.resolve("data.jsonl");
        List<String> lines = new ArrayList<>();
        for (int k = 0; k < KEYS.length; k++) {
            for (int i = 0; i < 12 + 3 * k; i++) { // rows of unequal lengths, so order changes the windows
                String text = TrainCommandTest.SENTENCES[k % 4].repeat(1 + i % 3) + i;
                lines.add(JSON.writeValueAsString(Map.of("lang", KEYS[k], "text", text)));
                long[] size = SIZES.computeIfAbsent(KEYS[k], x -> new long[2]);
                size[0]++;
                size[1] += text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length; // bytes, no BOS/EOS
            }
        }
        java.util.Collections.shuffle(lines, new java.util.Random(5)); // the shuffle, not the file, orders rows
        Files.write(data, lines);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--rank", "4", "--steps", "6", "--batch", "4", "--seq", "32",
                "--lr", "1e-2", "--held-out", "0.2", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** Spark's temporary block files, where a task spills windows (in the blockmgr-* directories). */
    private static List<Path> spillFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (java.io.File dir : org.apache.spark.SparkEnv.get().blockManager().diskBlockManager().localDirs()) {
            try (Stream<Path> files = Files.walk(dir.toPath())) {
                files.filter(p -> p.getFileName().toString().startsWith("temp_local_")).forEach(out::add);
            }
        }
        return out;
    }

    /** The same train run twice, shared by the tests that read it: [0] in memory, [1] with {@code --spill-rows 5}. */
    private static CliTest.Run[] runs;
    private static Path memoryOut;
    private static Path spilledOut;

    /** Trains both runs on first use: with {@code --spill-rows 5} every key (12 rows or more) spills. */
    private static synchronized CliTest.Run[] trainedBothWays() {
        if (runs == null) {
            memoryOut = shared.resolve("memory");
            spilledOut = shared.resolve("spilled");
            CliTest.Run a = CliTest.cli(train(memoryOut));
            assertEquals(0, a.status(), a.err());
            CliTest.Run b = CliTest.cli(train(spilledOut, "--spill-rows", "5"));
            assertEquals(0, b.status(), b.err());
            runs = new CliTest.Run[] {a, b};
        }
        return runs;
    }

    @Test
    void aKeyOverTheSpillThresholdTrainsTheSameAdapterFromDisk() throws IOException {
        List<Path> before = spillFiles();
        CliTest.Run a = trainedBothWays()[0];
        CliTest.Run b = runs[1];
        for (String k : KEYS) {
            byte[] m = Files.readAllBytes(memoryOut.resolve("adapters").resolve(k)
                    .resolve("adapter_model.safetensors"));
            byte[] s = Files.readAllBytes(spilledOut.resolve("adapters").resolve(k)
                    .resolve("adapter_model.safetensors"));
            assertArrayEquals(m, s, "adapter " + k);
            JsonNode dm = trainingData(memoryOut, k);
            JsonNode ds = trainingData(spilledOut, k);
            assertEquals("memory", dm.path("windows_in").asText());
            assertEquals("spill file", ds.path("windows_in").asText());
            assertTrue(ds.path("held_out_windows").asInt() >= 1, ds.toString());
            for (String f : new String[] {"rows", "tokens", "target_tokens", "train_windows", "held_out_windows"}) {
                assertEquals(dm.path(f), ds.path(f), k + " " + f);
            }
        }
        assertEquals(before, spillFiles(), "a spill file was left behind");

        // the plan names the five largest keys, largest first, with their rows and tokens, in its line and manifest
        StringBuilder line = new StringBuilder("Plan: largest key(s) ");
        JsonNode listed = JSON.readTree(spilledOut.resolve("manifest.json").toFile()).path("job")
                .path("largest_keys");
        assertEquals(5, listed.size(), listed.toString());
        for (int i = 0; i < 5; i++) {
            String k = KEYS[KEYS.length - 1 - i];
            long[] size = SIZES.get(k);
            line.append(i > 0 ? ", " : "").append(k).append(" (").append(size[0]).append(" rows, ").append(size[1])
                    .append(" tokens) spills");
            assertEquals(k, listed.get(i).path("key").asText());
            assertEquals(k, listed.get(i).path("adapter").asText());
            assertEquals(size[0], listed.get(i).path("rows").asLong());
            assertEquals(size[1], listed.get(i).path("tokens").asLong());
        }
        assertTrue(b.out().contains(line + "; over --spill-rows 5 a key packs its windows on local disk"), b.out());
        assertTrue(a.out().contains(line.toString().replace(" spills", "")
                + "; all in memory (--spill-rows 1000000)"), a.out());
        assertEquals(5, JSON.readTree(spilledOut.resolve("manifest.json").toFile()).path("job").path("spill_rows")
                .asLong());
    }

    private static JsonNode trainingData(Path out, String adapter) throws IOException {
        return JSON.readTree(out.resolve("adapters").resolve(adapter).resolve("training.json").toFile()).path("data");
    }

    /**
     * The router's fit streams a key over {@code --spill-rows} as training does: with every key spilled, router.json
     * and the manifest's {@code router} entry (counts, accuracy, confusion) equal the in-memory run's but for
     * {@code windows_in}, which says where each adapter's windows were; each adapter's held-out windows (and their row
     * of the confusion matrix) and the router's training examples of it are the windows its in-memory training.json
     * counted, so a spilled window cannot be dropped; no spill file is left.
     */
    @Test
    void theRouterIsFittedFromSpilledKeysAsFromTheHeap() throws IOException {
        List<Path> before = spillFiles();
        trainedBothWays();
        Path[] outs = {memoryOut, spilledOut};
        String[] windowsIn = {"memory", "spill file"};
        JsonNode[] file = new JsonNode[2];
        JsonNode[] entry = new JsonNode[2];
        for (int run = 0; run < 2; run++) {
            file[run] = JSON.readTree(outs[run].resolve("router.json").toFile());
            entry[run] = JSON.readTree(outs[run].resolve("manifest.json").toFile()).path("router");
            for (JsonNode perAdapter : List.of(file[run].path("held_out").path("per_adapter"),
                    entry[run].path("per_adapter"))) {
                assertEquals(KEYS.length, perAdapter.size(), perAdapter.toString());
                for (JsonNode a : perAdapter) {
                    assertEquals(windowsIn[run], a.path("windows_in").asText(), outs[run] + ": " + a);
                    ((com.fasterxml.jackson.databind.node.ObjectNode) a).remove("windows_in");
                }
            }
        }
        long heldOut = 0;
        for (String k : KEYS) {
            JsonNode trained = trainingData(memoryOut, k);
            long n = trained.path("held_out_windows").asLong();
            assertTrue(n >= 1, k + ": " + trained);
            JsonNode a = named(entry[1].path("per_adapter"), k);
            assertEquals(n, a.path("held_out_windows").asLong(), k + ": " + a);
            assertTrue(a.path("accuracy").isNumber(), k + ": " + a);
            long predicted = 0;
            for (JsonNode c : entry[1].path("confusion").path(k)) {
                predicted += c.asLong();
            }
            assertEquals(n, predicted, k + ": " + entry[1].path("confusion"));
            assertEquals(trained.path("train_windows").asLong(), named(file[1].path("classes"), k).path("examples")
                    .asLong(), k + ": fitted on every training window");
            heldOut += n;
        }
        assertEquals(heldOut, entry[1].path("held_out_windows").asLong());
        assertEquals(file[0], file[1], "router.json, spilled against in memory");
        assertEquals(entry[0], entry[1], "the manifest's router entry, spilled against in memory");
        assertEquals(before, spillFiles(), "a spill file was left behind");
    }

    /** The element of {@code list} whose {@code name} is {@code name}. */
    private static JsonNode named(JsonNode list, String name) {
        for (JsonNode e : list) {
            if (e.path("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no " + name + " in " + list);
    }

    @Test
    void spillRowsBelowOneIsRefused(@TempDir Path tmp) {
        CliTest.Run r = CliTest.cli(train(tmp.resolve("o"), "--spill-rows", "0"));
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Invalid --spill-rows 0: must be >= 1"), r.err());
    }

    /** Where the spilled run keeps each adapter's, model's or node's windows: k1 (15 rows) and root (27) spill. */
    static final Map<String, String> WINDOWS_IN = Map.of("k0", "memory", "k1", "spill file", "root", "spill file",
            "a", "memory", "b", "spill file");

    /**
     * {@code --full}, {@code --tree}, {@code --rank auto} and {@code sweep} stream a key over {@code --spill-rows} as
     * {@code train} does: on keys k0 (12 rows, under 13: in memory) and k1 (15: spilled), and a tree whose root
     * trains on both (27: each key's windows spilled), every model and adapter file is the same bytes as with
     * spilling off, each training.json says where its windows were, and no spill file is left.
     */
    @Test
    void fullTreeRankSearchAndSweepStreamTheSameWay(@TempDir Path tmp) throws IOException {
        Path two = tmp.resolve("two-keys.jsonl");
        Files.write(two, Files.readAllLines(data).stream().filter(l -> l.contains("\"k0\"") || l.contains("\"k1\""))
                .toList());
        Path tree = tmp.resolve("tree.yaml");
        Files.writeString(tree, """
                nodes:
                  - {name: root, keys: [k0, k1]}
                  - {name: a, parent: root, keys: [k0]}
                  - {name: b, parent: root, keys: [k1]}
                """);
        List<Path> before = spillFiles();
        String[][] commands = {
            {"train", "--full", "--steps", "3"},
            {"train", "--tree", tree.toString(), "--rank", "2", "--steps", "4"},
            {"train", "--rank", "auto", "--rank-max", "2", "--steps", "4"},
            {"sweep", "--ranks", "2", "--targets-grid", "q_proj", "--steps", "4"},
        };
        for (String[] command : commands) {
            String what = String.join(" ", command);
            Path memory = tmp.resolve(command[1].replace("-", "") + "-memory");
            Path spilled = tmp.resolve(command[1].replace("-", "") + "-spilled");
            CliTest.Run a = CliTest.cli(args(command, two, memory));
            assertEquals(0, a.status(), what + ": " + a.err());
            CliTest.Run b = CliTest.cli(args(command, two, spilled, "--spill-rows", "13"));
            assertEquals(0, b.status(), what + ": " + b.err());
            int weights = 0;
            int records = 0;
            try (Stream<Path> files = Files.walk(memory)) {
                for (Path m : files.filter(Files::isRegularFile).toList()) {
                    String name = m.getFileName().toString();
                    Path s = spilled.resolve(memory.relativize(m).toString());
                    if (name.endsWith("model.safetensors")) {
                        assertArrayEquals(Files.readAllBytes(m), Files.readAllBytes(s), what + ": " + s);
                        weights++;
                    } else if (name.equals("training.json") && JSON.readTree(m.toFile()).path("data")
                            .has("windows_in")) {
                        String owner = m.getParent().getFileName().toString();
                        JsonNode dm = JSON.readTree(m.toFile()).path("data");
                        JsonNode ds = JSON.readTree(s.toFile()).path("data");
                        assertEquals("memory", dm.path("windows_in").asText(), what + ": " + m);
                        assertEquals(WINDOWS_IN.get(owner), ds.path("windows_in").asText(), what + ": " + s);
                        for (String f : new String[] {"rows", "tokens", "target_tokens", "train_windows",
                            "held_out_windows"}) {
                            assertEquals(dm.path(f), ds.path(f), what + ": " + owner + " " + f);
                        }
                        records++;
                    }
                }
            }
            int expected = command[1].equals("--tree") ? 3 : 2; // nodes, or keys (rank search: the chosen ranks too)
            assertTrue(weights >= expected && records >= expected, what + ": " + weights + " weight files, "
                    + records + " training records");
            // the same plan line as train's, k1 (15 rows) over 13 and k0 (12) under it, and the same largest_keys
            String k1 = "k1 (" + SIZES.get("k1")[0] + " rows, " + SIZES.get("k1")[1] + " tokens)";
            String k0 = "k0 (" + SIZES.get("k0")[0] + " rows, " + SIZES.get("k0")[1] + " tokens)";
            assertTrue(b.out().contains("Plan: largest key(s) " + k1 + " spills, " + k0
                    + "; over --spill-rows 13 a key packs its windows on local disk"), what + ": " + b.out());
            assertTrue(a.out().contains("Plan: largest key(s) " + k1 + ", " + k0 + "; all in memory (--spill-rows "
                    + "1000000)"), what + ": " + a.out());
            Path manifest = spilled.resolve("manifest.json");
            assertEquals(!command[0].equals("sweep"), Files.exists(manifest), what); // sweep writes plane.json
            if (Files.exists(manifest)) {
                JsonNode job = JSON.readTree(manifest.toFile()).path("job");
                assertEquals(13, job.path("spill_rows").asLong(), what);
                JsonNode listed = job.path("largest_keys");
                assertEquals(2, listed.size(), what + ": " + listed);
                for (int i = 0; i < 2; i++) {
                    String k = i == 0 ? "k1" : "k0";
                    assertEquals(k, listed.get(i).path("key").asText(), what);
                    assertEquals(SIZES.get(k)[0], listed.get(i).path("rows").asLong(), what + ": " + k);
                    assertEquals(SIZES.get(k)[1], listed.get(i).path("tokens").asLong(), what + ": " + k);
                }
            }
        }
        assertEquals(before, spillFiles(), "a spill file was left behind");
    }

    /**
     * {@code eval} streams a partition over the threshold as training does: on a train run of {@code --spill-rows 5}
     * every key (12 rows or more) spills by default (the run's threshold), and the full matrix and a sampled one are
     * the same numbers, bit for bit, as with {@code --spill-rows} high enough to keep every key in the heap.
     */
    @Test
    void evalStreamsAPartitionOverTheThresholdToTheSameMatrix(@TempDir Path tmp) throws IOException {
        List<Path> before = spillFiles();
        trainedBothWays();
        Path out = spilledOut;
        for (String[] pairs : new String[][] {{"--pairs", "all"}, {"--pairs", "sampled", "--sample", "2"}}) {
            JsonNode[] m = new JsonNode[2];
            for (int run = 0; run < 2; run++) {
                Path file = tmp.resolve(pairs[1] + "-" + run + ".json");
                List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--adapters",
                        out.toString(), "--out", file.toString()));
                args.addAll(List.of(pairs));
                if (run == 0) {
                    args.addAll(List.of("--spill-rows", "1000000"));
                }
                CliTest.Run e = CliTest.cli(args.toArray(String[]::new));
                assertEquals(0, e.status(), e.err());
                m[run] = JSON.readTree(file.toFile());
            }
            String what = String.join(" ", pairs);
            assertEquals(KEYS.length, m[0].path("columns").size(), what);
            for (int c = 0; c < KEYS.length; c++) {
                assertEquals("memory", m[0].path("windows_in").get(c).asText(), what);
                assertEquals("spill file", m[1].path("windows_in").get(c).asText(), what);
                assertTrue(m[1].path("held_out_windows").get(c).asInt() >= 1, what);
            }
            assertEquals(m[0].path("held_out_windows"), m[1].path("held_out_windows"), what);
            String cells = pairs[1].equals("all") ? "rows" : "cells";
            assertEquals(pairs[1].equals("all") ? KEYS.length + 1 : KEYS.length * 3, m[0].path(cells).size(), what);
            assertEquals(m[0].path(cells), m[1].path(cells), what); // every loss as the same double
            assertEquals(m[0].path("base_loss"), m[1].path("base_loss"), what);
            for (JsonNode r : m[1].path(cells)) { // every partition has held-out windows: no loss is missing
                assertFalse(r.path("loss").toString().contains("null"), what + ": " + r);
            }
        }
        assertEquals(before, spillFiles(), "a spill file was left behind");
    }

    private static String[] args(String[] command, Path data, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of(command[0], "--model", model.toString(), "--data",
                data.toString(), "--partition-by", "lang", "--batch", "4", "--seq", "32", "--lr", "1e-2",
                "--held-out", "0.2", "--out", out.toString()));
        args.addAll(List.of(command).subList(1, command.length));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }
}
