package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * adapter is the same bytes as the in-memory run's, and the file is gone afterwards. Spark {@code local[2,4]} with
 * Kryo and registration required, as {@link TrainCommandTest}.
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

    @Test
    void aKeyOverTheSpillThresholdTrainsTheSameAdapterFromDisk(@TempDir Path tmp) throws IOException {
        List<Path> before = spillFiles();
        Path memory = tmp.resolve("memory");
        Path spilled = tmp.resolve("spilled");
        CliTest.Run a = CliTest.cli(train(memory));
        assertEquals(0, a.status(), a.err());
        CliTest.Run b = CliTest.cli(train(spilled, "--spill-rows", "5")); // every key has 12 or more rows
        assertEquals(0, b.status(), b.err());
        for (String k : KEYS) {
            byte[] m = Files.readAllBytes(memory.resolve("adapters").resolve(k).resolve("adapter_model.safetensors"));
            byte[] s = Files.readAllBytes(spilled.resolve("adapters").resolve(k)
                    .resolve("adapter_model.safetensors"));
            assertArrayEquals(m, s, "adapter " + k);
            JsonNode dm = JSON.readTree(memory.resolve("adapters").resolve(k).resolve("training.json").toFile())
                    .path("data");
            JsonNode ds = JSON.readTree(spilled.resolve("adapters").resolve(k).resolve("training.json").toFile())
                    .path("data");
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
        JsonNode listed = JSON.readTree(spilled.resolve("manifest.json").toFile()).path("job").path("largest_keys");
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
        assertEquals(5, JSON.readTree(spilled.resolve("manifest.json").toFile()).path("job").path("spill_rows")
                .asLong());
    }

    @Test
    void spillRowsIsRefusedWhereItWouldBeIgnored(@TempDir Path tmp) {
        CliTest.Run r = CliTest.cli(train(tmp.resolve("o"), "--spill-rows", "5", "--full"));
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Invalid --spill-rows 5: it applies to LoRA adapters, not to --full or --tree"),
                r.err());
        r = CliTest.cli(train(tmp.resolve("o"), "--spill-rows", "0"));
        assertTrue(r.err().contains("Invalid --spill-rows 0: must be >= 1"), r.err());
    }
}
