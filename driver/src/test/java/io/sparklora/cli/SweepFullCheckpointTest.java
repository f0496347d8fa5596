package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.model.Checkpoints;
import io.sparklora.util.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sweep --full} on {@code local[2,4]} (a failed task is retried up to 4 times) without {@code
 * --checkpoint-every}: the full fine-tuning corner checkpoints every 50 steps as the LoRA points do, so when the first
 * attempt of one model fails after step 55 (the {@link SparkTrainJob#FAIL_AT_STEP} hook) its retry resumes from the
 * step-50 checkpoint, and the committed weights and the plane's losses are byte for byte those of an undisturbed sweep.
 */
class SweepFullCheckpointTest {
    @TempDir
    static Path shared;
    static SparkSession spark;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "SweepFullCheckpointTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = FullTrainCommandTest.twoKeys(shared.resolve("data.jsonl"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static CliTest.Run sweep(Path out) {
        List<String> args = new ArrayList<>(List.of("sweep", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--ranks", "1", "--targets-grid", "q_proj", "--full", "--steps", "60",
                "--batch", "4", "--seq", "32", "--lr", "3e-3", "--out", out.toString()));
        return CliTest.cli(args.toArray(String[]::new));
    }

    @Test
    void aRetriedFullCornerResumesFromItsStep50CheckpointToTheSameBytes(@TempDir Path tmp) throws IOException {
        Path clean = tmp.resolve("clean");
        CliTest.Run first = sweep(clean);
        assertEquals(0, first.status(), first.err() + first.out());

        Path faulty = tmp.resolve("faulty");
        spark.conf().set(SparkTrainJob.FAIL_AT_STEP, "market:55");
        CliTest.Run run;
        try {
            run = sweep(faulty);
        } finally {
            spark.conf().unset(SparkTrainJob.FAIL_AT_STEP);
        }
        assertEquals(0, run.status(), run.err() + run.out());

        Path models = Path.of("points", "full", "models");
        JsonNode market = TrainCommandTest.JSON.readTree(
                faulty.resolve(models).resolve("market/training.json").toFile());
        assertEquals(1, market.path("attempt").asInt(), market.toString());
        assertEquals(50, market.path("resumed_from_step").asInt(), "resumed from the step-50 checkpoint");
        assertEquals(60, market.path("train_history").size()); // steps 1-50 from the checkpoint, 51-60 retrained
        JsonNode cleanMarket = TrainCommandTest.JSON.readTree(
                clean.resolve(models).resolve("market/training.json").toFile());
        assertEquals(0, cleanMarket.path("attempt").asInt());
        assertEquals(0, cleanMarket.path("resumed_from_step").asInt());
        for (String name : List.of("cat", "market")) {
            assertEquals(Hashing.sha256(clean.resolve(models).resolve(name).resolve("model.safetensors")),
                    Hashing.sha256(faulty.resolve(models).resolve(name).resolve("model.safetensors")),
                    name + ": the resumed corner's weights are the undisturbed one's, byte for byte");
        }
        assertEquals(fullLosses(clean), fullLosses(faulty));
        assertFalse(Files.exists(faulty.resolve("points/full/_checkpoints")), "checkpoints removed once committed");
        try (var dirs = Files.list(faulty.resolve(models))) {
            assertTrue(dirs.allMatch(p -> !p.getFileName().toString().startsWith("_tmp-")), "no attempt left over");
        }
    }

    /** The full corner's points of the plane: name → held-out loss, as plane.json writes it. */
    private static List<String> fullLosses(Path out) throws IOException {
        List<String> losses = new ArrayList<>();
        for (JsonNode p : TrainCommandTest.JSON.readTree(out.resolve("plane.json").toFile()).path("points")) {
            if ("full".equals(p.path("rank").asText())) {
                losses.add(p.path("name").asText() + "=" + p.path("held_out_loss").asText());
            }
        }
        assertEquals(2, losses.size(), losses.toString());
        return losses;
    }
}
