package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.model.Checkpoints;
import io.sparklora.safetensors.SafeTensorsReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --adapters-per-task K} on Spark {@code local[2,4]} (two cores, a failed task retried): six adapters in
 * two tasks of one fused group of three each (K = 3, or the default rule's 4). The reference is the same job with
 * K = 1 (each adapter trained alone, same seeds): every tensor of every adapter_model.safetensors agrees within 1e-6;
 * a member that fails fails alone; a fused task that fails after a checkpoint resumes its group from it.
 */
class FusedTrainTest {
    static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4", "k5"};
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path model;
    static Path data;
    static Path alone; // the job with K = 1

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "FusedTrainTest", 4);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = shared.resolve("data.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < KEYS.length; k++) {
                lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("lang", KEYS[k], "text",
                        TrainCommandTest.SENTENCES[k % 4].repeat(1 + k / 4 + i % 3) + " " + k)));
            }
        }
        Files.write(data, lines);
        alone = shared.resolve("alone");
        CliTest.Run run = CliTest.cli(train(alone, "--adapters-per-task", "1"));
        assertEquals(0, run.status(), run.out() + run.err());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Four steps of batch 2 × seq 32, no checkpoint within them (the end's only, not written: see AdapterTask). */
    static String[] train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--rank", "2", "--steps", "4", "--batch", "2", "--seq", "32", "--lr",
                "1e-2", "--checkpoint-every", "10", "--progress-seconds", "100", "--out", out.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int at = args.indexOf(extra[i]);
            if (at >= 0) {
                args.set(at + 1, extra[i + 1]);
            } else {
                args.add(extra[i]);
                args.add(extra[i + 1]);
            }
        }
        return args.toArray(String[]::new);
    }

    static JsonNode training(Path out, String name) throws IOException {
        return TrainCommandTest.JSON.readTree(out.resolve("adapters").resolve(name).resolve("training.json")
                .toFile());
    }

    /** Every tensor of adapter {@code name} under {@code out} equals the one trained alone, within 1e-6. */
    static void sameAsAlone(Path out, String name) throws IOException {
        try (SafeTensorsReader want = SafeTensorsReader.open(alone.resolve("adapters").resolve(name)
                .resolve("adapter_model.safetensors"));
             SafeTensorsReader got = SafeTensorsReader.open(out.resolve("adapters").resolve(name)
                     .resolve("adapter_model.safetensors"))) {
            assertEquals(want.names(), got.names(), name);
            assertFalse(want.names().isEmpty());
            for (String t : want.names()) {
                float[] w = want.read(t).toArray();
                float[] g = got.read(t).toArray();
                assertEquals(w.length, g.length, t);
                for (int i = 0; i < w.length; i++) {
                    assertEquals(w[i], g[i], 1e-6, name + " " + t + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void threePerTaskTrainsTheSameAdaptersAsOneByOne(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out, "--adapters-per-task", "3"));
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("Trained 6 adapter(s); 0 already complete; 0 failed"), run.out());
        JsonNode manifest = TrainCommandTest.manifest(out);
        assertEquals(6, manifest.path("adapters").size());
        manifest.path("adapters").forEach(a -> assertEquals("trained", a.path("status").asText(), a.toString()));
        Set<Set<String>> groups = new HashSet<>();
        for (String name : KEYS) {
            sameAsAlone(out, name);
            JsonNode t = training(out, name);
            Set<String> group = new TreeSet<>(List.of(name));
            t.path("fused_with").forEach(n -> group.add(n.asText()));
            assertEquals(2, t.path("fused_with").size(), t.toString());
            assertFalse(group.size() < 3, "fused_with names the two others, not itself: " + t.path("fused_with"));
            groups.add(group);
            assertEquals(4, t.path("train_history").size());
            assertEquals(training(alone, name).path("fingerprint"), t.path("fingerprint"));
            assertTrue(training(alone, name).path("fused_with").isMissingNode(), "K = 1 trains alone");
        }
        assertEquals(2, groups.size(), "two tasks of three: " + groups);
        Set<String> all = new TreeSet<>();
        groups.forEach(all::addAll);
        assertEquals(Set.of(KEYS), all);

        // Same fingerprints: a re-run with another K trains nothing.
        CliTest.Run again = CliTest.cli(train(out, "--adapters-per-task", "1"));
        assertEquals(0, again.status(), again.out() + again.err());
        assertTrue(again.out().contains("Trained 0 adapter(s); 6 already complete"), again.out());
    }

    @Test
    void withoutTheOptionSmallBatchesOfSixAdaptersOnTwoCoresTrainFusedByDefault(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out)); // batch 2 × seq 32, 4 steps, LLaMA, ⌈6 / 4⌉ = 2 groups, 2 cores
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("Adapters per task: up to 4 trained fused (the default for batch × seq 64 <= "
                + "256"), run.out());
        for (String name : KEYS) {
            sameAsAlone(out, name);
            assertEquals(2, training(out, name).path("fused_with").size(), name); // two bins of three
        }
    }

    @Test
    void aMemberWhoseLossTurnsNanFailsAloneAndTheOthersCommit(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        spark.conf().set(SparkTrainJob.POISON_AT_STEP, "k1:2");
        CliTest.Run run;
        try {
            run = CliTest.cli(train(out, "--adapters-per-task", "3"));
        } finally {
            spark.conf().unset(SparkTrainJob.POISON_AT_STEP);
        }
        assertEquals(3, run.status(), run.out() + run.err());
        for (JsonNode a : TrainCommandTest.manifest(out).path("adapters")) {
            String name = a.path("name").asText();
            if (name.equals("k1")) {
                assertEquals("failed", a.path("status").asText());
                assertEquals("deterministic", a.path("failure").asText());
                assertTrue(a.path("reason").asText().startsWith("Cannot train adapter k1: loss is NaN at step 3"),
                        a.toString());
            } else {
                assertEquals("trained", a.path("status").asText(), a.toString());
                sameAsAlone(out, name); // the NaN never reached the members fused with it
            }
        }
        assertFalse(Files.exists(out.resolve("adapters/k1")), "a failed adapter leaves nothing");
        boolean fusedWithK1 = false;
        for (String name : KEYS) {
            if (!name.equals("k1")) {
                JsonNode t = training(out, name);
                assertEquals(2, t.path("fused_with").size(), t.toString());
                fusedWithK1 |= t.path("fused_with").toString().contains("\"k1\"");
            }
        }
        assertTrue(fusedWithK1, "k1 was trained fused with two others");
    }

    @Test
    void aFusedTaskThatFailsAfterACheckpointIsRetriedFromItAndEqualsAnUndisturbedRun(@TempDir Path tmp)
            throws IOException {
        Path clean = tmp.resolve("clean"); // checkpoints within the steps: still fused
        CliTest.Run undisturbed = CliTest.cli(train(clean, "--adapters-per-task", "3", "--checkpoint-every", "2"));
        assertEquals(0, undisturbed.status(), undisturbed.out() + undisturbed.err());
        assertFalse(undisturbed.out().contains("one by one"), undisturbed.out());

        Path out = tmp.resolve("faulty");
        spark.conf().set(SparkTrainJob.FAIL_AT_STEP, "k1:3"); // attempt 0 of k1's task fails after step 3
        CliTest.Run run;
        try {
            run = CliTest.cli(train(out, "--adapters-per-task", "3", "--checkpoint-every", "2"));
        } finally {
            spark.conf().unset(SparkTrainJob.FAIL_AT_STEP);
        }
        assertEquals(0, run.status(), run.out() + run.err());
        Set<String> k1Group = new TreeSet<>(List.of("k1"));
        training(out, "k1").path("fused_with").forEach(n -> k1Group.add(n.asText()));
        assertEquals(3, k1Group.size(), k1Group.toString());
        for (String name : KEYS) {
            JsonNode t = training(out, name);
            assertEquals(2, t.path("fused_with").size(), "the retry trains fused too: " + t);
            assertEquals(4, t.path("train_history").size()); // steps 1-2 come from the checkpoint in k1's group
            boolean retried = k1Group.contains(name);
            assertEquals(retried ? 2 : 0, t.path("resumed_from_step").asInt(), name);
            assertEquals(retried ? 1 : 0, t.path("attempt").asInt(), name);
            sameAsAlone(out, name); // within 1e-6 of K = 1
            assertEquals(io.sparklora.util.Hashing.sha256(clean.resolve("adapters").resolve(name)
                            .resolve("adapter_model.safetensors")),
                    io.sparklora.util.Hashing.sha256(out.resolve("adapters").resolve(name)
                            .resolve("adapter_model.safetensors")), "the resumed fused run's bytes: " + name);
        }
        assertFalse(Files.exists(out.resolve("_checkpoints")), "committed adapters leave no checkpoint");
    }

    @Test
    void overAGpt2BaseTheAdaptersTrainOneByOneAndTheJobSaysWhy(@TempDir Path tmp) throws IOException {
        Path gpt2 = tmp.resolve("gpt2");
        Checkpoints.save(Checkpoints.random(new io.sparklora.model.Gpt2Config(256, 32, 1, 4, 64, 64, 1e-5, 0.2), 7),
                gpt2);
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out, "--adapters-per-task", "3", "--model", gpt2.toString()));
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("--adapters-per-task 3: training the adapters one by one: fused training "
                + "supports the LLaMA family, the base is gpt2"), run.out());
        for (String name : KEYS) {
            assertTrue(training(out, name).path("fused_with").isMissingNode(), name);
        }
    }

    @Test
    void membersOverTheSpillThresholdStreamAndTrainAlone(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli(train(out, "--adapters-per-task", "3", "--spill-rows", "10")); // 16 rows each
        assertEquals(0, run.status(), run.out() + run.err());
        for (String name : KEYS) {
            JsonNode t = training(out, name);
            assertEquals("spill file", t.path("data").path("windows_in").asText(), t.toString());
            assertTrue(t.path("fused_with").isMissingNode(), t.toString());
            sameAsAlone(out, name);
        }
    }

    @Test
    void anAdaptersPerTaskBelowOneIsOneErrorNamingTheOption(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        CliTest.Run zero = CliTest.cli(train(out, "--adapters-per-task", "0"));
        assertEquals(1, zero.status(), zero.out() + zero.err());
        assertTrue(zero.err().contains("Invalid --adapters-per-task 0: must be at least 1"), zero.err());
        assertFalse(Files.exists(out), "nothing written");
        List<String> fullArgs = new ArrayList<>(List.of(train(out, "--adapters-per-task", "2")));
        fullArgs.add("--full");
        CliTest.Run full = CliTest.cli(fullArgs.toArray(String[]::new));
        assertEquals(1, full.status(), full.out() + full.err());
        assertTrue(full.err().contains("Invalid --adapters-per-task 2: it fuses the LoRA adapters of a plain train, "
                + "not with --full, --tree or --rank auto"), full.err());
    }
}
