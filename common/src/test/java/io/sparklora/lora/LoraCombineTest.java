package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.eval.Scorer;
import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.nn.CausalLms;
import io.sparklora.peft.PeftAdapters;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LoraCombine} against deltas computed here by triple loops in double (ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ) and against the
 * models scored with the inputs merged one after the other.
 */
class LoraCombineTest {
    private static final ModelConfig CONFIG = TinyModels.llama();

    static LoraAdapter adapter(LoraConfig c, long seed) {
        LoraAdapter a = LoraAdapter.initialize(c.withSeed(seed), CONFIG);
        TinyModels.randomizeB(a, seed + 100);
        return a;
    }

    /** ΔW (out, in) of one module: Σ wᵢ sᵢ Bᵢ Aᵢ by loops. */
    static double[] delta(List<LoraAdapter> adapters, double[] w, String path) {
        LinearModule t = null;
        double[] d = null;
        for (int i = 0; i < adapters.size(); i++) {
            LoraModule m = adapters.get(i).module(path);
            if (m == null) {
                continue;
            }
            t = m.target();
            if (d == null) {
                d = new double[t.outFeatures() * t.inFeatures()];
            }
            for (int o = 0; o < t.outFeatures(); o++) {
                for (int j = 0; j < t.inFeatures(); j++) {
                    double s = 0;
                    for (int k = 0; k < m.rank(); k++) {
                        s += (double) m.loraB().value().get(o * m.rank() + k) * m.loraA().value().get(k * t.inFeatures() + j);
                    }
                    d[o * t.inFeatures() + j] += w[i] * m.scaling() * s;
                }
            }
        }
        return d;
    }

    static double score(BaseModel base, LoraAdapter adapter) {
        int[] tokens = new int[200];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 7 + i / 3) % CONFIG.vocabSize();
        }
        var lm = adapter == null ? CausalLms.of(base) : CausalLms.withAdapter(base, adapter);
        return new Scorer(32).score(lm, tokens, "t").meanLoss();
    }

    @Test
    void catEqualsItsInputsAppliedTogether(@TempDir Path dir) throws Exception {
        LoraAdapter a = adapter(LoraConfig.defaults().withRank(2).withAlpha(4), 1);
        LoraAdapter b = adapter(LoraConfig.defaults().withTargetModules(List.of("all-linear")).withRank(3)
                .withAlpha(5).withRslora(), 2);
        double[] w = {0.7, -1.3};
        LoraAdapter cat = LoraCombine.cat(List.of(a, b), w);
        for (LoraModule m : cat.modules().values()) {
            int expectedRank = (a.module(m.target().path()) != null ? 2 : 0) + 3;
            assertEquals(expectedRank, m.rank(), m.target().path());
            assertEquals(1f, m.scaling());
            double[] e = delta(List.of(a, b), w, m.target().path());
            double[] got = delta(List.of(cat), new double[] {1}, m.target().path());
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], got[i], 1e-5, m.target().path() + " at " + i);
            }
        }
        // applied together: both merged into the base (weights folded into copies), scored against cat as an adapter
        BaseModel base = TinyModels.randomBase(CONFIG, 3);
        BaseModel merged = base.copy();
        LoraMerge.merge(merged, LoraCombine.cat(List.of(a), new double[] {0.7}));
        LoraMerge.merge(merged, LoraCombine.cat(List.of(b), new double[] {-1.3}));
        assertEquals(score(merged, null), score(base, cat), 1e-5);
        // and it round-trips through PEFT files (rank_pattern/alpha_pattern describe the per-module ranks)
        PeftAdapters.write(dir, cat, "base");
        LoraAdapter read = PeftAdapters.read(dir, CONFIG);
        assertEquals(score(base, cat), score(base, read), 1e-6);
    }

    @Test
    void svdAtFullRankReproducesCatAndTruncationReportsTheError() {
        LoraAdapter a = adapter(LoraConfig.defaults().withRank(2), 4);
        LoraAdapter b = adapter(LoraConfig.defaults().withRank(4), 5);
        double[] w = {1, 0.5};
        LoraCombine.Result full = LoraCombine.svd(List.of(a, b), w, 6);
        for (LoraModule m : full.adapter().modules().values()) {
            double[] e = delta(List.of(a, b), w, m.target().path());
            double[] got = delta(List.of(full.adapter()), new double[] {1}, m.target().path());
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], got[i], 1e-5, m.target().path() + " at " + i);
            }
        }
        assertTrue(full.maxRelativeError() < 1e-9, "full rank is exact: " + full.maxRelativeError());
        LoraCombine.Result low = LoraCombine.svd(List.of(a, b), w, null); // PEFT's default: the largest rank, 4
        assertEquals(4, low.adapter().modules().values().iterator().next().rank());
        for (Map.Entry<String, Double> e : low.relativeError().entrySet()) {
            double[] d = delta(List.of(a, b), w, e.getKey());
            double[] got = delta(List.of(low.adapter()), new double[] {1}, e.getKey());
            double num = 0, den = 0;
            for (int i = 0; i < d.length; i++) {
                num += (d[i] - got[i]) * (d[i] - got[i]);
                den += d[i] * d[i];
            }
            assertEquals(Math.sqrt(num / den), e.getValue(), 1e-5, e.getKey());
            assertTrue(e.getValue() > 0.01, "rank 4 of a rank-6 delta loses something");
        }
    }

    @Test
    void linearCombinesFactorsWithSqrtOfWeightTimesScaling() {
        LoraAdapter a = adapter(LoraConfig.defaults().withRank(2).withAlpha(4), 6);
        LoraAdapter b = adapter(LoraConfig.defaults().withRank(2).withAlpha(8), 7);
        double[] w = {0.25, 0.5};
        LoraAdapter lin = LoraCombine.linear(List.of(a, b), w);
        String path = "model.layers.1.self_attn.q_proj";
        LoraModule m = lin.module(path);
        double fa = Math.sqrt(0.25 * 2), fb = Math.sqrt(0.5 * 4); // scalings 4/2 and 8/2
        for (int i = 0; i < m.loraA().value().size(); i++) {
            assertEquals(fa * a.module(path).loraA().value().get(i) + fb * b.module(path).loraA().value().get(i),
                    m.loraA().value().get(i), 1e-6);
        }
        for (int i = 0; i < m.loraB().value().size(); i++) {
            assertEquals(fa * a.module(path).loraB().value().get(i) + fb * b.module(path).loraB().value().get(i),
                    m.loraB().value().get(i), 1e-6);
        }
    }

    @Test
    void linearRefusesUnequalRanksMismatchedModulesAndNegativeWeights() {
        LoraAdapter r2 = adapter(LoraConfig.defaults().withRank(2), 1);
        LoraAdapter r4 = adapter(LoraConfig.defaults().withRank(4), 2);
        LoraAdapter allLinear = adapter(LoraConfig.defaults().withRank(2).withTargetModules(List.of("all-linear")), 3);
        var e1 = assertThrows(IllegalArgumentException.class, () -> LoraCombine.linear(List.of(r2, r4), new double[] {1, 1}));
        assertEquals("Cannot combine adapters with linear: module model.layers.0.self_attn.q_proj has rank 2 in "
                + "adapter 1 and 4 in adapter 2; linear needs equal ranks (use cat or svd)", e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> LoraCombine.linear(List.of(r2, allLinear), new double[] {1, 1}));
        assertTrue(e2.getMessage().startsWith("Cannot combine adapters with linear: adapter 1 and adapter 2 adapt "
                + "different modules (only in 1: [], only in 2: [model.layers.0.self_attn.k_proj"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class,
                () -> LoraCombine.linear(List.of(r2, r2), new double[] {1, -1}));
        assertTrue(e3.getMessage().contains("weight -1.0 of adapter 2 is negative"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> LoraCombine.cat(List.of(r2, r2), new double[] {1}));
        assertEquals("Cannot combine adapters with cat: 1 weights for 2 adapters", e4.getMessage());
        LoraAdapter gpt = LoraAdapter.initialize(LoraConfig.defaults().withTargetModules(List.of("c_attn")),
                TinyModels.gpt2());
        LoraAdapter otherBase = new LoraAdapter(null, List.of(new LoraModule(
                new LinearModule("model.layers.0.self_attn.q_proj", "q_proj", 0, 32, 16, r2.module(
                        "model.layers.0.self_attn.q_proj").target().layout(), false), 2, 2, 1, 0,
                io.sparklora.tensor.Tensor.zeros(2, 32), io.sparklora.tensor.Tensor.zeros(16, 2))));
        var e5 = assertThrows(IllegalArgumentException.class,
                () -> LoraCombine.svd(List.of(r2, otherBase), new double[] {1, 1}, 2));
        assertTrue(e5.getMessage().contains("(adapters of different base models)"), e5.getMessage());
        assertTrue(gpt.modules().size() > 0);
    }
}
