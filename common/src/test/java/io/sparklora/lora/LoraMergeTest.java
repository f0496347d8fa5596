package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraMergeTest {
    @Test
    void llamaMergeMatchesNaiveProductAndUnmergeRestores() {
        check(TinyModels.llama(), LoraConfig.defaults().withTargetModules(List.of("all-linear")).withRank(4)
                .withRankPattern(java.util.Map.of("down_proj", 2)));
    }

    @Test
    void gpt2MergeMatchesNaiveProductAndUnmergeRestores() {
        check(TinyModels.gpt2(), LoraConfig.defaults().withTargetModules(List.of("all-linear")).withRank(4).withRslora());
    }

    private static void check(ModelConfig config, LoraConfig lora) {
        BaseModel base = TinyModels.randomBase(config, 1);
        BaseModel original = base.copy();
        LoraAdapter adapter = LoraAdapter.initialize(lora.withSeed(5), config);
        TinyModels.randomizeB(adapter, 9);

        LoraMerge.merge(base, adapter);
        for (var e : original.weights().entrySet()) {
            float[] w0 = e.getValue().toArray();
            float[] w1 = base.weight(e.getKey()).toArray();
            String path = e.getKey().endsWith(".weight") ? e.getKey().substring(0, e.getKey().length() - 7) : "";
            LoraModule m = adapter.module(path);
            if (m == null) {
                assertArrayEquals(w0, w1, e.getKey() + " is not adapted and must not change");
                continue;
            }
            float[] expected = naiveMerged(w0, m);
            for (int i = 0; i < w1.length; i++) {
                assertEquals(expected[i], w1[i], 1e-5, e.getKey() + " at " + i);
            }
        }
        LoraMerge.unmerge(base, adapter);
        for (var e : original.weights().entrySet()) {
            float[] w0 = e.getValue().toArray();
            float[] w2 = base.weight(e.getKey()).toArray();
            for (int i = 0; i < w0.length; i++) {
                assertEquals(w0[i], w2[i], 1e-6, e.getKey() + " at " + i + " after unmerge");
            }
        }
    }

    /** W + s·B·A by a triple loop, indexed (out, in) for nn.Linear and (in, out) for Conv1D. */
    private static float[] naiveMerged(float[] w, LoraModule m) {
        LinearModule t = m.target();
        int in = t.inFeatures(), out = t.outFeatures(), r = m.rank();
        Tensor a = m.loraA().value(), b = m.loraB().value();
        float[] res = w.clone();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0;
                for (int k = 0; k < r; k++) {
                    d += b.get(o * r + k) * (double) a.get(k * in + i);
                }
                int idx = t.layout() == WeightLayout.OUT_IN ? o * in + i : i * out + o;
                res[idx] = (float) (w[idx] + m.scaling() * d);
            }
        }
        return res;
    }

    @Test
    void refusesAdapterOfAnotherShapeBeforeChangingAnything() {
        BaseModel base = TinyModels.randomBase(TinyModels.llama(), 1);
        BaseModel original = base.copy();
        LlamaConfig wider = new LlamaConfig(64, 32, 64, 4, 4, 2, 8, 64, 1e-5, 1e4, false, false, false, 0.02);
        LoraAdapter adapter = LoraAdapter.initialize(LoraConfig.defaults().withTargetModules(List.of("q_proj", "up_proj")),
                wider);
        TinyModels.randomizeB(adapter, 3);
        String msg = assertThrows(IllegalArgumentException.class, () -> LoraMerge.merge(base, adapter)).getMessage();
        assertEquals("Cannot merge adapter into llama base model: module model.layers.0.mlp.up_proj is (in=32, out=64, "
                + "OUT_IN), the base has (in=32, out=48, OUT_IN)", msg);
        for (var e : original.weights().entrySet()) {
            assertArrayEquals(e.getValue().toArray(), base.weight(e.getKey()).toArray(), e.getKey());
        }
        LoraAdapter gpt2 = LoraAdapter.initialize(LoraConfig.defaults().withTargetModules(List.of("c_attn")),
                TinyModels.gpt2());
        assertEquals("Cannot unmerge adapter into llama base model: module transformer.h.0.attn.c_attn does not exist "
                + "in the base", assertThrows(IllegalArgumentException.class, () -> LoraMerge.unmerge(base, gpt2))
                .getMessage());
    }
}
