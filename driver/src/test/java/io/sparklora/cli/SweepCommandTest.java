package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sweep} over the tiny LLaMA of {@link TrainCommandTest} (one layer, dim 32, 4 heads of 8, 2 KV heads, FFN
 * 64) and two keys: ranks 1 and 4 × {q_proj,v_proj} and all-linear, plus the full corner. The point sizes are checked
 * against the layer shapes worked out by hand, the losses against each point's own training record, the choice
 * against the rule recomputed here; then every bad grid is refused with nothing written.
 */
class SweepCommandTest {
    static SparkSession spark;

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "SweepCommandTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = FullTrainCommandTest.twoKeys(shared.resolve("data.jsonl"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static CliTest.Run sweep(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("sweep", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--steps", "8", "--batch", "4", "--seq", "32", "--lr", "3e-3",
                "--out", out.toString()));
        args.addAll(List.of(extra));
        return CliTest.cli(args.toArray(String[]::new));
    }

    @Test
    void everyPointOfThePlaneWithTheFullCornerChartsAndTheSmallestAdequateChoice(@TempDir Path tmp)
            throws Exception {
        Path out = tmp.resolve("out");
        Path config = tmp.resolve("sweep.yaml");
        Files.writeString(config, "ranks: 1,4\ntargets-grid: q_proj,v_proj;all-linear\ntolerance: 0.05\n");
        CliTest.Run run = sweep(out, "--config", config.toString(), "--full");
        assertEquals(0, run.status(), run.err() + run.out());
        assertTrue(run.out().contains("Sweep: 2 target set(s) x 2 rank(s) x 2 partition(s) = 8 LoRA adapter(s)"),
                run.out());
        JsonNode plane = TrainCommandTest.JSON.readTree(out.resolve("plane.json").toFile());
        JsonNode points = plane.path("points");
        assertEquals(10, points.size(), points.toString());
        // r·(in + out) per adapted layer: q 32+32, k 32+16, v 32+16, o 32+32, gate and up 32+64, down 64+32
        Map<String, Integer> perRank = Map.of("q_proj+v_proj", 64 + 48, "all-linear", 64 + 48 + 48 + 64 + 96 * 3);
        Map<String, List<JsonNode>> byName = new HashMap<>();
        int full = 0;
        for (JsonNode p : points) {
            for (String field : List.of("key", "name", "targets", "rank", "trainable_params", "adapter_bytes",
                    "held_out_loss", "seconds")) {
                assertTrue(p.has(field), field + " in " + p);
            }
            assertEquals(p.path("key").asText(), p.path("name").asText());
            assertTrue(p.path("held_out_loss").isNumber(), p.toString());
            byName.computeIfAbsent(p.path("name").asText(), k -> new ArrayList<>()).add(p);
            Path dir = out.resolve(p.path("path").asText());
            JsonNode training = TrainCommandTest.JSON.readTree(dir.resolve("training.json").toFile());
            assertEquals(training.path("final_held_out_loss").asDouble(), p.path("held_out_loss").asDouble());
            // the record counts the tensors it trained; the plane counts from the config (LoRA) or the manifest
            assertEquals(p.path("trainable_params").asLong(), training.path("trainable_params").asLong(), p.toString());
            if (p.path("rank").asText().equals("full")) {
                full++;
                assertEquals(25_696, p.path("trainable_params").asLong(), "the full corner trains every weight");
                assertEquals(Files.size(dir.resolve("config.json")) + Files.size(dir.resolve("model.safetensors")),
                        p.path("adapter_bytes").asLong());
                continue;
            }
            int rank = p.path("rank").asInt();
            assertTrue(rank == 1 || rank == 4, p.toString());
            String id = p.path("targets_id").asText();
            assertEquals((long) perRank.get(id) * rank, p.path("trainable_params").asLong(), p.toString());
            assertEquals(id.equals("all-linear") ? 7 : 2, p.path("targets").size(), p.toString());
            assertEquals(Files.size(dir.resolve("adapter_config.json"))
                    + Files.size(dir.resolve("adapter_model.safetensors")), p.path("adapter_bytes").asLong());
            assertTrue(out.resolve("points").resolve(id + "-r" + rank).resolve("adapters").resolve(
                    p.path("name").asText()).toFile().isDirectory());
        }
        assertEquals(2, full, "one full fine-tuning per key");
        for (JsonNode part : plane.path("partitions")) {
            List<JsonNode> own = byName.get(part.path("name").asText());
            assertEquals(5, own.size());
            JsonNode best = own.get(0);
            for (JsonNode p : own) {
                best = p.path("held_out_loss").asDouble() < best.path("held_out_loss").asDouble() ? p : best;
            }
            double limit = best.path("held_out_loss").asDouble() * 1.05;
            JsonNode small = null;
            for (JsonNode p : own) {
                if (p.path("held_out_loss").asDouble() <= limit && (small == null
                        || p.path("trainable_params").asLong() < small.path("trainable_params").asLong())) {
                    small = p;
                }
            }
            assertNotNull(small);
            assertEquals(best.path("path").asText(), part.path("best").path("path").asText());
            assertEquals(small.path("path").asText(), part.path("smallest_adequate").path("path").asText());
            assertTrue(part.path("smallest_adequate").path("trainable_params").asLong()
                    <= part.path("best").path("trainable_params").asLong());
            BufferedImage heat = ImageIO.read(out.resolve("report/plane-" + part.path("name").asText() + ".png")
                    .toFile());
            assertTrue(heat.getWidth() >= 760 && heat.getHeight() >= 420);
        }
        assertTrue(ImageIO.read(out.resolve("report/plane-frontier.png").toFile()).getWidth() > 0);
        assertTrue(run.out().contains("Partition cat: best "), run.out());
        // the corner is a train --full output, and its report is train --full's, linked from the plane's
        Path corner = out.resolve("points/full");
        FullTrainReportCheck.check(corner);
        // the plan line once for the LoRA points and once for the corner; the corner's manifest has largest_keys
        assertEquals(2, run.out().split("Plan: largest key\\(s\\) ", -1).length - 1, run.out());
        JsonNode largest = TrainCommandTest.manifest(corner).path("job").path("largest_keys");
        assertEquals(2, largest.size(), largest.toString());
        assertEquals(java.util.Set.of("cat", "market"), java.util.Set.of(largest.get(0).path("key").asText(),
                largest.get(1).path("key").asText()));
        for (JsonNode k : largest) {
            assertEquals(24, k.path("rows").asLong(), "twoKeys writes 24 rows a key: " + k);
        }
        for (JsonNode m : TrainCommandTest.manifest(corner).path("models")) {
            assertEquals(25_696, m.path("parameters").asLong());
            assertEquals(25_696, m.path("trainable_params").asLong(), m.toString());
        }
        assertTrue(Files.readString(out.resolve("report/index.html"))
                .contains("<a href=\"../points/full/report/index.html\">"), "the plane's report links the corner's");
    }

    @Test
    void badGridsAreRefusedWithNothingWritten(@TempDir Path tmp) {
        String[][] bad = {
            {"--ranks", "1,0", "--targets-grid", "q_proj", "Invalid --ranks 1,0: every rank must be >= 1, got 0"},
            {"--ranks", "-2,4", "--targets-grid", "q_proj", "every rank must be >= 1, got -2"},
            {"--ranks", "1,x", "--targets-grid", "q_proj", "expected positive integers"},
            {"--ranks", "1", "--targets-grid", "q_proj;;v_proj", "target set 2 is empty"},
            {"--ranks", "1", "--targets-grid", "q_proj;", "target set 2 is empty"},
            {"--ranks", "1", "--targets-grid", "q_proj,qproj", "qproj"},
            {"--ranks", "1", "--targets-grid", "c_attn", "Invalid sweep point c_attn-r1"},
            {"--ranks", "64", "--targets-grid", "k_proj", "Invalid sweep point k_proj-r64"},
        };
        for (String[] b : bad) {
            Path out = tmp.resolve("out");
            CliTest.Run run = sweep(out, b[0], b[1], b[2], b[3]);
            assertEquals(1, run.status(), String.join(" ", b) + ": " + run.err());
            assertTrue(run.err().contains(b[4]), String.join(" ", b) + ": " + run.err());
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", b));
        }
        // a corner that cannot fit is refused with the numbers before any LoRA point trains
        Path huge = tmp.resolve("huge");
        CliTest.Run corner = CliTest.cli("sweep", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--steps", "8", "--batch", "200000", "--seq", "32", "--ranks", "1",
                "--targets-grid", "q_proj", "--full", "--out", huge.toString());
        assertEquals(1, corner.status(), corner.err() + corner.out());
        assertTrue(corner.err().contains("Cannot train --full: the local driver JVM needs about"), corner.err());
        assertTrue(corner.err().contains("25,696 parameters × 16 bytes"), corner.err());
        assertFalse(Files.exists(huge.resolve("points")), "no point trained");
        CliTest.Run rank = sweep(tmp.resolve("out"), "--ranks", "1", "--targets-grid", "q_proj", "--rank", "4");
        assertEquals(1, rank.status());
        assertTrue(rank.err().contains("Invalid --rank with sweep"), rank.err());
        CliTest.Run help = CliTest.cli("sweep", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--targets-grid") && help.out().contains("--steps"), help.out());
        assertFalse(help.out().contains("--rank=") || help.out().contains("--targets=")
                || help.out().contains("--tree="), help.out()); // an option, not --spill-rows' mention
    }
}
