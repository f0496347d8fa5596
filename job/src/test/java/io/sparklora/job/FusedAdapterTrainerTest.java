package io.sparklora.job;

import static io.sparklora.job.TrainerFixtures.TINY_LLAMA;
import static io.sparklora.job.TrainerFixtures.pack;
import static io.sparklora.job.TrainerFixtures.tinyBase;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import io.sparklora.nn.FusedAdapterLm;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** K adapters trained fused over one base against the same K trained one by one by {@link AdapterTrainer}. */
class FusedAdapterTrainerTest {
    private static final String[] TEXTS = {"the cat sat on the mat. ", "a dog ran in the park! ",
        "rain falls on green hills; "};

    /** Three adapters that differ in targets, rank, dropout, seed, data and learning rate. */
    private static LoraConfig lora(int k) {
        LoraConfig all = LoraConfig.defaults().withTargetModules(List.of(LoraConfig.ALL_LINEAR));
        return switch (k) {
            case 0 -> all.withRank(4).withAlpha(8).withDropout(0).withSeed(11);
            case 1 -> LoraConfig.defaults().withRank(2).withAlpha(4).withDropout(0.1)
                    .withTargetModules(List.of("q_proj", "v_proj")).withSeed(12);
            default -> all.withRank(8).withAlpha(8).withDropout(0.05).withSeed(13);
        };
    }

    private static TrainSpec spec(int k) {
        return builder(k).build();
    }

    private static TrainSpec.Builder builder(int k) {
        return TrainSpec.lora("adapter" + k, lora(k)).steps(6).batchSize(2).seqLen(32).learningRate(1e-2 * (k + 1))
                .warmupSteps(2).gradAccumulation(2).evalEvery(3).seed(100 + k);
    }

    private static PackedData data(int k) {
        List<Example> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add(Example.text(TEXTS[k].repeat(3 + i % 3)));
        }
        return pack("adapter" + k, rows, 32, 0.2, 5 + k);
    }

    @Test
    void threeFusedAdaptersEqualThreeTrainedOneByOne() {
        BaseModel base = tinyBase();
        List<TrainResult> alone = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            alone.add(AdapterTrainer.lora(spec(k), base, LoraAdapter.initialize(lora(k), TINY_LLAMA), data(k)).run());
        }
        List<LoraAdapter> adapters = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            adapters.add(LoraAdapter.initialize(lora(k), TINY_LLAMA));
        }
        List<TrainResult> fused = new FusedAdapterTrainer(base, List.of(spec(0), spec(1), spec(2)), adapters,
                List.of(data(0), data(1), data(2))).run().stream().map(FusedAdapterTrainer.Outcome::result).toList();

        for (int k = 0; k < 3; k++) {
            assertSameTraining(alone.get(k), fused.get(k), k);
        }
    }

    /** {@code f} trained as {@code a}: the same losses (≤ 1e-6), learning rates and weights (≤ 1e-6 each). */
    private static void assertSameTraining(TrainResult a, TrainResult f, int k) {
        assertEquals(a.adapterName(), f.adapterName());
        assertEquals(a.trainHistory().size(), f.trainHistory().size());
        for (int s = 0; s < a.trainHistory().size(); s++) {
            assertEquals(a.trainHistory().get(s).loss(), f.trainHistory().get(s).loss(), 1e-6,
                    "adapter " + k + " step " + (s + 1));
            assertEquals(a.trainHistory().get(s).learningRate(), f.trainHistory().get(s).learningRate(), 0);
        }
        assertEquals(a.heldOutHistory().size(), f.heldOutHistory().size());
        for (int s = 0; s < a.heldOutHistory().size(); s++) {
            assertEquals(a.heldOutHistory().get(s).loss(), f.heldOutHistory().get(s).loss(), 1e-6);
        }
        assertEquals(a.parameters().keySet(), f.parameters().keySet());
        double moved = 0;
        for (Map.Entry<String, Tensor> e : a.parameters().entrySet()) {
            float[] want = e.getValue().toArray();
            float[] got = f.parameters().get(e.getKey()).toArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6, e.getKey() + "[" + i + "] of adapter " + k);
                moved += Math.abs(want[i]);
            }
        }
        assertTrue(moved > 0, "adapter " + k + " trained nothing");
        // training changed the losses: the comparison is not of two untouched models
        assertTrue(a.trainHistory().get(5).loss() < a.trainHistory().get(0).loss(), "adapter " + k);
    }

    @Test
    void aMemberThatGoesNanOrHasBadTokensFailsAloneAndTheOthersTrainAsAlone() {
        BaseModel base = tinyBase();
        List<TrainResult> alone = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            alone.add(AdapterTrainer.lora(spec(k), base, LoraAdapter.initialize(lora(k), TINY_LLAMA), data(k)).run());
        }
        // A fourth member whose windows hold a token id past the vocabulary (the wrong tokenizer's ids).
        PackedData bad = data(0);
        List<Window> badTrain = new ArrayList<>(bad.train());
        Window w = badTrain.get(0);
        int[] ids = w.inputs().clone();
        ids[3] = TINY_LLAMA.vocabSize() + 5;
        badTrain.set(0, new Window(ids, w.targets()));
        PackedData badData = new PackedData(badTrain, bad.heldOut(), bad.rows(), bad.tokens(), bad.targetTokens());
        TrainSpec badSpec = TrainSpec.lora("badtokens", lora(0)).steps(6).batchSize(2).seqLen(32).gradAccumulation(2)
                .build();
        List<LoraAdapter> adapters = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            adapters.add(LoraAdapter.initialize(lora(k), TINY_LLAMA));
        }
        adapters.add(LoraAdapter.initialize(lora(0), TINY_LLAMA));
        LoraAdapter poisoned = adapters.get(1);
        FusedAdapterTrainer trainer = new FusedAdapterTrainer(base, List.of(spec(0), spec(1), spec(2), badSpec),
                adapters, List.of(data(0), data(1), data(2), badData));
        List<String> reported = new ArrayList<>();
        trainer.onProgress(r -> {
            reported.add(r.adapterName() + "@" + r.step());
            if (r.adapterName().equals("adapter1") && r.step() == 2) { // as the poisonAtStep test hook does
                poisoned.parameters().forEach(p -> p.value().fill(Float.NaN));
            }
        });
        List<FusedAdapterTrainer.Outcome> out = trainer.run();

        assertEquals("Cannot train adapter badtokens: token id " + (TINY_LLAMA.vocabSize() + 5) + " is outside the "
                + "model's vocabulary of " + TINY_LLAMA.vocabSize() + " (does the tokenizer belong to this model?)",
                out.get(3).failure());
        assertTrue(out.get(1).failed());
        assertTrue(out.get(1).failure().startsWith("Cannot train adapter adapter1: loss is NaN at step 3 (learning "
                + "rate "), out.get(1).failure());
        assertEquals(null, out.get(1).result());
        assertSameTraining(alone.get(0), out.get(0).result(), 0);
        assertSameTraining(alone.get(2), out.get(2).result(), 2);
        assertTrue(reported.contains("adapter1@2") && !reported.contains("adapter1@3"), reported.toString());
        assertTrue(reported.contains("adapter0@6") && reported.contains("adapter2@6"), reported.toString());
    }

    @Test
    void refusesAdaptersOfDifferentShapes() {
        TrainSpec other = TrainSpec.lora("other", lora(0)).steps(6).batchSize(4).seqLen(32).gradAccumulation(2)
                .build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FusedAdapterTrainer(
                tinyBase(), List.of(spec(0), other), List.of(LoraAdapter.initialize(lora(0), TINY_LLAMA),
                LoraAdapter.initialize(lora(0), TINY_LLAMA)), List.of(data(0), data(1))));
        assertTrue(e.getMessage().startsWith("Cannot fuse adapter other with adapter0: batch 4 × seq 32"),
                e.getMessage());
    }

    @Test
    void refusesGpt2Bases() {
        Gpt2Config gpt2 = new Gpt2Config(256, 32, 2, 4, 64, 64, 1e-5, 0.02);
        BaseModel base = Checkpoints.random(gpt2, 3);
        LoraConfig c = LoraConfig.defaults().withRank(2).withTargetModules(List.of(LoraConfig.ALL_LINEAR));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FusedAdapterLm.of(base,
                List.of(LoraAdapter.initialize(c, gpt2), LoraAdapter.initialize(c, gpt2))));
        assertEquals("Cannot fuse 2 adapters over a gpt2 base: fused multi-adapter training supports the LLaMA family "
                + "only; train them one by one", e.getMessage());
    }

    private static final class Interrupted extends RuntimeException {
        Interrupted(int step) {
            super("interrupted after step " + step);
        }
    }

    /** The three adapters fused, checkpointing every 2 steps under {@code dir/adapterK}; stopped after {@code stop}. */
    private static FusedAdapterTrainer checkpointed(Path dir, List<LoraAdapter> adapters, int stop) throws IOException {
        List<TrainerCheckpoint> stores = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            stores.add(TrainerCheckpoint.at(dir.resolve("adapter" + k).toUri(), new Configuration()));
        }
        List<TrainSpec> specs = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            specs.add(builder(k).checkpointEvery(2).build());
            adapters.add(LoraAdapter.initialize(lora(k), TINY_LLAMA)); // fresh A, as a restarted task builds it
        }
        return new FusedAdapterTrainer(tinyBase(), specs, adapters, List.of(data(0), data(1), data(2)))
                .checkpointTo(stores).identifiedBy(List.of("base-a", "base-b", "base-c")).onProgress(r -> {
                    if (r.step() == stop) {
                        throw new Interrupted(stop);
                    }
                });
    }

    private static List<String> steps(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Every member of {@code b} holds exactly {@code a}'s bits, losses and held-out losses. */
    private static void assertBitForBit(List<FusedAdapterTrainer.Outcome> a, List<LoraAdapter> aw,
                                        List<FusedAdapterTrainer.Outcome> b, List<LoraAdapter> bw, String what) {
        for (int k = 0; k < 3; k++) {
            assertEquals(a.get(k).result().trainHistory(), b.get(k).result().trainHistory(), what + " " + k);
            assertEquals(a.get(k).result().heldOutHistory(), b.get(k).result().heldOutHistory(), what + " " + k);
            for (int i = 0; i < aw.get(k).parameters().size(); i++) {
                assertArrayEquals(aw.get(k).parameters().get(i).value().toArray(),
                        bw.get(k).parameters().get(i).value().toArray(),
                        what + " " + k + " " + aw.get(k).parameters().get(i).name());
            }
        }
    }

    @Test
    void aFusedRunInterruptedAfterACheckpointResumesToTheUninterruptedRunBitForBit(@TempDir Path tmp)
            throws IOException {
        List<LoraAdapter> straightW = new ArrayList<>();
        List<FusedAdapterTrainer.Outcome> straight = checkpointed(tmp.resolve("straight"), straightW, -1).run();
        for (int k = 0; k < 3; k++) {
            assertEquals(List.of("step-00000006"), steps(tmp.resolve("straight/adapter" + k)), "the end's only");
        }

        // Stopped during step 5: every member's step 4 is its only checkpoint, steps 5-6 are redone on resume.
        Path dir = tmp.resolve("interrupted");
        assertThrows(Interrupted.class, () -> checkpointed(dir, new ArrayList<>(), 5).run());
        for (int k = 0; k < 3; k++) {
            assertEquals(List.of("step-00000004"), steps(dir.resolve("adapter" + k)));
        }
        // The same checkpoint resumes adapter1 alone: same format and fingerprint; equal to fused within 1e-6.
        copyTree(dir.resolve("adapter1/step-00000004"), tmp.resolve("single/step-00000004"));
        TrainResult single = AdapterTrainer.lora(builder(1).checkpointEvery(2).build(), tinyBase(),
                LoraAdapter.initialize(lora(1), TINY_LLAMA), data(1))
                .checkpointTo(TrainerCheckpoint.at(tmp.resolve("single").toUri(), new Configuration()))
                .identifiedBy("base-b").run();
        assertEquals(4, single.resumedFromStep());
        for (Map.Entry<String, Tensor> e : straight.get(1).result().parameters().entrySet()) {
            float[] want = e.getValue().toArray();
            float[] got = single.parameters().get(e.getKey()).toArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6, e.getKey() + "[" + i + "] resumed alone");
            }
        }
        List<LoraAdapter> resumedW = new ArrayList<>();
        FusedAdapterTrainer again = checkpointed(dir, resumedW, -1);
        List<FusedAdapterTrainer.Outcome> resumed = again.run();
        for (int k = 0; k < 3; k++) {
            assertEquals(4, resumed.get(k).result().resumedFromStep());
            assertEquals(2L * 2 * 2 * 32, resumed.get(k).result().tokensTrained()); // steps 5-6 only
            // a member's checkpoint is the one the same adapter would write alone: either path resumes the other's
            assertEquals(AdapterTrainer.lora(builder(k).checkpointEvery(2).build(), tinyBase(),
                    LoraAdapter.initialize(lora(k), TINY_LLAMA), data(k))
                    .identifiedBy(List.of("base-a", "base-b", "base-c").get(k)).runFingerprint(),
                    again.runFingerprint(k));
        }
        assertBitForBit(straight, straightW, resumed, resumedW, "resumed at step 4");
    }

    @Test
    void membersWithCheckpointsOfDifferentStepsResumeTogetherAtTheLatestStepAllHave(@TempDir Path tmp)
            throws IOException {
        List<LoraAdapter> straightW = new ArrayList<>();
        List<FusedAdapterTrainer.Outcome> straight = checkpointed(tmp.resolve("straight"), straightW, -1).run();

        // As after a crash between two members' writes of step 4: adapter0 and adapter2 hold steps 2 and 4 (the
        // older is deleted only once every member wrote the newer), adapter1 holds step 2 only.
        Path at2 = tmp.resolve("at2");
        assertThrows(Interrupted.class, () -> checkpointed(at2, new ArrayList<>(), 3).run());
        Path dir = tmp.resolve("interrupted");
        assertThrows(Interrupted.class, () -> checkpointed(dir, new ArrayList<>(), 5).run());
        for (int k : new int[] {0, 2}) {
            copyTree(at2.resolve("adapter" + k + "/step-00000002"), dir.resolve("adapter" + k + "/step-00000002"));
        }
        deleteTree(dir.resolve("adapter1/step-00000004"));
        copyTree(at2.resolve("adapter1/step-00000002"), dir.resolve("adapter1/step-00000002"));
        List<String> notices = new ArrayList<>();
        List<LoraAdapter> resumedW = new ArrayList<>();
        List<FusedAdapterTrainer.Outcome> resumed = checkpointed(dir, resumedW, -1)
                .onProgress(TrainerFixtures.noticesInto(notices)).run();
        for (int k = 0; k < 3; k++) {
            assertEquals(2, resumed.get(k).result().resumedFromStep());
            assertEquals(List.of("step-00000006"), steps(dir.resolve("adapter" + k)));
        }
        assertEquals(2, notices.size(), notices.toString());
        assertTrue(notices.get(0).startsWith("Discarding checkpoints of adapter adapter0 after step 2 at "),
                notices.get(0));
        assertTrue(notices.get(0).endsWith(": its fused group resumes at step 2, the latest step every member has a "
                + "checkpoint of"), notices.get(0));
        assertBitForBit(straight, straightW, resumed, resumedW, "resumed at step 2");

        // A member with no checkpoint at all (adapter1's directory gone): the group starts over, and still ends equal.
        Path none = tmp.resolve("none");
        assertThrows(Interrupted.class, () -> checkpointed(none, new ArrayList<>(), 5).run());
        deleteTree(none.resolve("adapter1"));
        List<LoraAdapter> restartedW = new ArrayList<>();
        List<FusedAdapterTrainer.Outcome> restarted = checkpointed(none, restartedW, -1).run();
        assertEquals(0, restarted.get(0).result().resumedFromStep());
        assertBitForBit(straight, straightW, restarted, restartedW, "started over");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var list = Files.list(from)) {
            for (Path p : list.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
