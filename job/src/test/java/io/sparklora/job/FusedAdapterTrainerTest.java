package io.sparklora.job;

import static io.sparklora.job.TrainerFixtures.TINY_LLAMA;
import static io.sparklora.job.TrainerFixtures.pack;
import static io.sparklora.job.TrainerFixtures.tinyBase;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
        return TrainSpec.lora("adapter" + k, lora(k)).steps(6).batchSize(2).seqLen(32).learningRate(1e-2 * (k + 1))
                .warmupSteps(2).gradAccumulation(2).evalEvery(3).seed(100 + k).build();
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
}
