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
 * {@code train --full --checkpoint-every 3} on {@code local[2,4]} (a failed task is retried up to 4 times): the first
 * attempt of one model fails after step 7 (the {@link SparkTrainJob#FAIL_AT_STEP} hook), its retry resumes from the
 * step-6 checkpoint (every weight and both AdamW moments), and the committed weights are byte for byte those of an
 * undisturbed run, and of a run without checkpoints.
 */
class FullTrainCheckpointTest {
    @TempDir
    static Path shared;
    static SparkSession spark;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "FullTrainCheckpointTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = FullTrainCommandTest.twoKeys(shared.resolve("data.jsonl"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static CliTest.Run train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--full", "--model", model.toString(), "--data",
                data.toString(), "--partition-by", "lang", "--steps", "10", "--batch", "4", "--seq", "32", "--lr",
                "3e-3", "--out", out.toString()));
        args.addAll(List.of(extra));
        return CliTest.cli(args.toArray(String[]::new));
    }

    @Test
    void aRetriedFullFineTuneResumesFromItsCheckpointToTheSameBytes(@TempDir Path tmp) throws IOException {
        Path clean = tmp.resolve("clean");
        CliTest.Run first = train(clean, "--checkpoint-every", "3");
        assertEquals(0, first.status(), first.err());
        Path plain = tmp.resolve("plain");
        CliTest.Run noCheckpoints = train(plain);
        assertEquals(0, noCheckpoints.status(), noCheckpoints.err());

        Path faulty = tmp.resolve("faulty");
        spark.conf().set(SparkTrainJob.FAIL_AT_STEP, "market:7");
        CliTest.Run run;
        try {
            run = train(faulty, "--checkpoint-every", "3");
        } finally {
            spark.conf().unset(SparkTrainJob.FAIL_AT_STEP);
        }
        assertEquals(0, run.status(), run.err());

        JsonNode market = TrainCommandTest.JSON.readTree(faulty.resolve("models/market/training.json").toFile());
        assertEquals(1, market.path("attempt").asInt(), market.toString());
        assertEquals(6, market.path("resumed_from_step").asInt(), "resumed from the step-6 checkpoint");
        assertEquals(10, market.path("train_history").size()); // steps 1-6 from the checkpoint, 7-10 retrained
        JsonNode cat = TrainCommandTest.JSON.readTree(faulty.resolve("models/cat/training.json").toFile());
        assertEquals(0, cat.path("resumed_from_step").asInt());
        assertEquals(0, cat.path("attempt").asInt());
        for (String name : List.of("cat", "market")) {
            String want = Hashing.sha256(clean.resolve("models").resolve(name).resolve("model.safetensors"));
            assertEquals(want, Hashing.sha256(faulty.resolve("models").resolve(name).resolve("model.safetensors")),
                    name + ": the resumed run's weights are the undisturbed run's, byte for byte");
            assertEquals(want, Hashing.sha256(plain.resolve("models").resolve(name).resolve("model.safetensors")),
                    name + ": checkpointing does not change the result");
        }
        assertFalse(Files.exists(faulty.resolve("_checkpoints")), "checkpoints are removed once committed");
        assertFalse(Files.exists(clean.resolve("_checkpoints")));
        try (var models = Files.list(faulty.resolve("models"))) {
            assertTrue(models.allMatch(p -> !p.getFileName().toString().startsWith("_tmp-")), "no attempt left over");
        }
    }
}
