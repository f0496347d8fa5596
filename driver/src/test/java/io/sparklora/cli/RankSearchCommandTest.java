package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --rank auto} on two partitions of known difficulty: "easy" alternates two bytes (a rank-1 update
 * predicts it), "hard" walks a fixed random permutation of 48 bytes (each byte determines the next, an arbitrary
 * 48-way map that only a high-rank update holds). The search must pick a larger rank for the harder partition.
 */
class RankSearchCommandTest {
    static SparkSession spark;

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "RankSearchCommandTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"; // 48 symbols
        java.util.Random rng = new java.util.Random(5);
        List<Character> shuffled = new ArrayList<>();
        alphabet.chars().forEach(c -> shuffled.add((char) c));
        java.util.Collections.shuffle(shuffled, rng);
        Map<Character, Character> next = new java.util.HashMap<>();
        for (int i = 0; i < shuffled.size(); i++) {
            next.put(shuffled.get(i), shuffled.get((i + 1) % shuffled.size())); // one 48-cycle
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            StringBuilder walk = new StringBuilder();
            char c = alphabet.charAt(rng.nextInt(alphabet.length()));
            for (int k = 0; k < 64; k++) {
                walk.append(c);
                c = next.get(c);
            }
            lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("kind", "hard", "text", walk.toString())));
            lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("kind", "easy", "text", "xy".repeat(32))));
        }
        data = shared.resolve("data.jsonl");
        Files.write(data, lines);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void theHarderPartitionGetsTheLargerRank(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "kind", "--targets", "all-linear", "--rank", "auto", "--rank-max", "16",
                "--rank-tolerance", "0.02", "--steps", "60", "--batch", "4", "--seq", "32", "--lr", "1e-2",
                "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("Rank search round 1: rank 1 for 2 adapter(s)"), run.out());
        JsonNode m = TrainCommandTest.manifest(out);
        int easy = 0;
        int hard = 0;
        for (JsonNode a : m.path("adapters")) {
            JsonNode tried = a.path("rank_search");
            assertTrue(tried.size() >= 2, a.toString());
            assertEquals(1, tried.get(0).path("rank").asInt());
            int rank = a.path("rank").asInt();
            // rank_search: [{"rank", "held_out_loss", "seconds"}, ...], ranks doubling, the chosen one among them,
            // and the chosen one within the tolerance of the best tried (the smallest such)
            double best = Double.MAX_VALUE;
            for (int i = 0; i < tried.size(); i++) {
                JsonNode t = tried.get(i);
                java.util.Set<String> fields = new java.util.HashSet<>();
                t.fieldNames().forEachRemaining(fields::add);
                assertEquals(java.util.Set.of("rank", "held_out_loss", "seconds"), fields, t.toString());
                assertEquals(1 << i, t.path("rank").asInt(), tried.toString());
                assertTrue(t.path("held_out_loss").isNumber() && t.path("seconds").asDouble() > 0, t.toString());
                best = Math.min(best, t.path("held_out_loss").asDouble());
            }
            int smallest = Integer.MAX_VALUE;
            for (JsonNode t : tried) {
                if (t.path("held_out_loss").asDouble() <= best * 1.02) {
                    smallest = Math.min(smallest, t.path("rank").asInt());
                }
            }
            assertEquals(smallest, rank, tried.toString());
            assertEquals(rank, PeftAdapters.read(out.resolve("adapters").resolve(a.path("name").asText()),
                    Checkpoints.readConfig(model)).module("model.layers.0.self_attn.q_proj").rank());
            if (a.path("name").asText().equals("easy")) {
                easy = rank;
            } else {
                hard = rank;
            }
        }
        assertTrue(hard > easy, "hard " + hard + " vs easy " + easy);
        List<String> csv = Files.readAllLines(out.resolve("report/rank-search.csv"));
        assertEquals("adapter,rank,held_out_loss,seconds,chosen", csv.get(0));
        assertEquals(2, csv.stream().filter(l -> l.endsWith(",true")).count(), csv.toString());
        CliTest.Run again = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "kind", "--targets", "all-linear", "--rank", "auto", "--rank-max", "16",
                "--rank-tolerance", "0.02", "--steps", "60", "--batch", "4", "--seq", "32", "--lr", "1e-2",
                "--out", out.toString());
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("2 adapter(s): 0 published, 2 already there"), again.out());
        JsonNode m2 = TrainCommandTest.manifest(out);
        for (int i = 0; i < 2; i++) {
            JsonNode before = m.path("adapters").get(i);
            JsonNode after = m2.path("adapters").get(i);
            assertEquals("existing", after.path("status").asText(), "a re-run finds every round committed");
            assertEquals(before.path("rank"), after.path("rank"));
            assertEquals(before.path("sha256"), after.path("sha256"));
            assertEquals(before.path("rank_search").toString(), after.path("rank_search").toString());
        }
    }

    @Test
    void searchOptionsNeedRankAuto() {
        CliTest.Run run = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "kind", "--rank", "4", "--rank-max", "8", "--out", shared.resolve("x").toString());
        assertEquals(1, run.status());
        assertTrue(run.err().contains("Invalid --rank-max without --rank auto"), run.err());
        CliTest.Run zero = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "kind", "--rank", "auto", "--rank-min", "0", "--out", shared.resolve("x").toString());
        assertEquals(1, zero.status());
        assertTrue(zero.err().contains("Invalid --rank-min 0: must be >= 1"), zero.err());
        CliTest.Run existing = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "kind", "--rank", "auto", "--existing", "keep", "--out",
                shared.resolve("x").toString());
        assertEquals(1, existing.status());
        assertTrue(existing.err().contains("Invalid --existing with --rank auto"), existing.err());
    }
}
