package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.LlamaConfig;
import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraAdapterTest {
    /** hidden 256, ffn 1024: A of q_proj is (8, 256), A of down_proj is (8, 1024). */
    private static final LlamaConfig WIDE = new LlamaConfig(64, 256, 1024, 2, 4, 4, 64, 64, 1e-5, 1e4, false, false,
            true, 0.02);

    @Test
    void kaimingUniformHasTorchBoundAndMoments() {
        LoraAdapter a = LoraAdapter.initialize(LoraConfig.defaults().withTargetModules(List.of("q_proj", "down_proj"))
                .withSeed(11), WIDE);
        assertEquals(4, a.modules().size());
        for (LoraModule m : a.modules().values()) {
            int in = m.target().inFeatures();
            double bound = 1 / Math.sqrt(in); // kaiming_uniform_(a=√5) on (rank, in)
            float[] v = m.loraA().value().toArray();
            assertEquals(8 * in, v.length);
            double sum = 0, sq = 0, max = 0;
            for (float x : v) {
                assertTrue(Math.abs(x) <= bound, m.target().path() + ": " + x + " outside ±" + bound);
                sum += x;
                sq += x * (double) x;
                max = Math.max(max, Math.abs(x));
            }
            double mean = sum / v.length;
            double var = sq / v.length - mean * mean;
            assertEquals(0, mean, 4 * bound / Math.sqrt(3 * v.length), m.target().path() + " mean");
            assertEquals(bound * bound / 3, var, 0.06 * bound * bound / 3, m.target().path() + " variance");
            assertTrue(max > 0.99 * bound, m.target().path() + " max " + max);
            assertTrue(Arrays.equals(new float[m.loraB().value().size()], m.loraB().value().toArray()),
                    m.target().path() + ": B must start at zero");
            assertEquals(2f, m.scaling());
            assertEquals(16f, m.alpha());
        }
    }

    @Test
    void gaussianHasStdOneOverRank() {
        LoraAdapter a = LoraAdapter.initialize(LoraConfig.defaults().withRank(4).withInit(LoraInit.GAUSSIAN)
                .withTargetModules(List.of("down_proj")), WIDE);
        for (LoraModule m : a.modules().values()) {
            float[] v = m.loraA().value().toArray();
            double sq = 0, sum = 0;
            for (float x : v) {
                sum += x;
                sq += x * (double) x;
            }
            double mean = sum / v.length;
            assertEquals(0, mean, 4 * 0.25 / Math.sqrt(v.length));
            assertEquals(0.25, Math.sqrt(sq / v.length - mean * mean), 0.25 * 0.03);
            assertEquals(0f, max(m.loraB().value()));
        }
    }

    @Test
    void initIsDeterministicPerSeedAndModulePath() {
        LoraConfig c = LoraConfig.defaults().withSeed(42);
        LoraAdapter one = LoraAdapter.initialize(c, TinyModels.llama());
        LoraAdapter two = LoraAdapter.initialize(c, TinyModels.llama());
        LoraAdapter other = LoraAdapter.initialize(c.withSeed(43), TinyModels.llama());
        LoraAdapter more = LoraAdapter.initialize(c.withTargetModules(List.of("all-linear")), TinyModels.llama());
        String q0 = "model.layers.0.self_attn.q_proj";
        String v2 = "model.layers.2.self_attn.v_proj";
        assertArrayEquals(a(one, q0), a(two, q0));
        assertFalse(Arrays.equals(a(one, q0), a(other, q0)));
        assertFalse(Arrays.equals(a(one, q0), a(one, "model.layers.1.self_attn.q_proj")));
        // Adding targets does not shift the streams of the others.
        assertArrayEquals(a(one, q0), a(more, q0));
        assertArrayEquals(a(one, v2), a(more, v2));
        assertEquals(28, more.modules().size());
        assertNull(one.module("model.layers.0.self_attn.k_proj"));
        assertEquals(c, one.config());
        assertEquals(16, one.parameters().size());
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", one.parameters().get(0).name());
    }

    @Test
    void moduleCarriesResolvedRankScalingAndDropout() {
        LoraAdapter a = LoraAdapter.initialize(LoraConfig.defaults().withRank(4).withAlpha(8).withRslora()
                .withDropout(0.1).withTargetModules(List.of("c_fc")), TinyModels.gpt2());
        LoraModule m = a.module("transformer.h.1.mlp.c_fc");
        assertEquals(4, m.rank());
        assertEquals(4f, m.scaling());
        assertEquals(0.1f, m.dropout());
        assertArrayEquals(new int[] {4, 32}, m.loraA().value().shape());
        assertArrayEquals(new int[] {48, 4}, m.loraB().value().shape());
    }

    private static float[] a(LoraAdapter adapter, String path) {
        return adapter.module(path).loraA().value().toArray();
    }

    private static float max(Tensor t) {
        float m = 0;
        for (int i = 0; i < t.size(); i++) {
            m = Math.max(m, Math.abs(t.get(i)));
        }
        return m;
    }
}
