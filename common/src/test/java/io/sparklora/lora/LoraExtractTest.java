package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.BaseModel;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraExtractTest {
    /** The base with every weight perturbed (a stand-in for a full fine-tune). */
    private static BaseModel tuned(BaseModel base, long seed) {
        BaseModel t = base.copy();
        SplitMix64 rng = new SplitMix64(seed);
        for (Tensor w : t.weights().values()) {
            for (int i = 0; i < w.size(); i++) {
                w.set(i, w.get(i) + 0.1f * (rng.nextFloat() - 0.5f));
            }
        }
        return t;
    }

    private static void fullRankReproducesTheTunedLinearWeights(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 1);
        BaseModel tuned = tuned(base, 2);
        int full = config.linearModules().stream().filter(m -> m.layer() >= 0)
                .mapToInt(m -> Math.min(m.inFeatures(), m.outFeatures())).max().orElseThrow();
        LoraExtract.Result r = LoraExtract.extract(base, tuned, full);
        BaseModel merged = base.copy();
        LoraMerge.merge(merged, r.adapter());
        for (var m : r.adapter().modules().values()) {
            assertEquals(Math.min(full, Math.min(m.target().inFeatures(), m.target().outFeatures())), m.rank(),
                    "a narrower layer keeps its own full rank");
            float[] e = tuned.weight(m.target().weightKey()).toArray();
            float[] got = merged.weight(m.target().weightKey()).toArray();
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], got[i], 1e-5, m.target().path() + " at " + i);
            }
        }
        assertTrue(r.notExtracted().keySet().stream().anyMatch(k -> k.contains("norm") || k.contains("ln_")),
                "norms changed too and are reported: " + r.notExtracted().keySet());
    }

    @Test
    void llamaAtFullRankReproducesTheTunedWeights() {
        fullRankReproducesTheTunedLinearWeights(TinyModels.llama());
    }

    @Test
    void gpt2AtFullRankReproducesTheTunedWeights() {
        fullRankReproducesTheTunedLinearWeights(TinyModels.gpt2());
    }

    @Test
    void lowRankRecoversALowRankUpdateExactlyAndRefusesBadRanks() {
        ModelConfig config = TinyModels.llama();
        BaseModel base = TinyModels.randomBase(config, 1);
        LoraAdapter trained = LoraCombineTest.adapter(LoraConfig.defaults().withRank(3)
                .withTargetModules(List.of("all-linear")), 8);
        BaseModel tuned = base.copy();
        LoraMerge.merge(tuned, trained);
        LoraExtract.Result r = LoraExtract.extract(base, tuned, 3);
        assertTrue(r.maxRelativeError() < 1e-5, "a rank-3 update is recovered by rank 3: " + r.maxRelativeError());
        assertTrue(r.notExtracted().isEmpty(), r.notExtracted().toString());
        LoraExtract.Result r1 = LoraExtract.extract(base, tuned, 1);
        assertTrue(r1.maxRelativeError() > 0.1);
        var e = assertThrows(IllegalArgumentException.class, () -> LoraExtract.extract(base, tuned, 0));
        assertEquals("Cannot extract adapter: rank 0 must be between 1 and 32 (the largest min(in, out) of the "
                + "linear layers; a smaller layer keeps its full rank)", e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> LoraExtract.extract(base, TinyModels.randomBase(TinyModels.gpt2(), 1), 2));
        assertTrue(e2.getMessage().startsWith("Cannot extract adapter: the tuned model (gpt2"), e2.getMessage());
    }
}
