package io.sparklora.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reference against cases computed by hand and against invariants of the Hugging Face definitions. */
class HfReferenceSelfTest {
    private static final double EPS = 1e-6;

    private static LlamaConfig llama(int vocab, int hidden, int heads, int kvHeads, int headDim, boolean tied,
                                     boolean bias) {
        return new LlamaConfig(vocab, hidden, 6, 2, heads, kvHeads, headDim, 32, EPS, 100.0, bias, bias, tied, 0.02);
    }

    private static Gpt2Config gpt2(int vocab, int hidden, int heads, int layers) {
        return new Gpt2Config(vocab, hidden, layers, heads, 16, 4 * hidden, EPS, 0.02);
    }

    @Test
    void ropeAtPositionZeroIsIdentity() {
        double[] x = {0.3, -1.2, 2.5, 0.7, 9, -4};
        double[] y = x.clone();
        HfReference.rope(y, 1, 4, 0, 10000);
        assertArrayEquals(x, y, 0);
    }

    /** HF rotates element i with element i + d/2 (rotate_half), each pair at frequency θ^(−2i/d). */
    @Test
    void ropeRotatesHalvesAtTheirFrequencies() {
        double[] x = {1, 2, 3, 4};
        HfReference.rope(x, 0, 4, 3, 100);
        double a0 = 3; // position 3 × 100^0
        double a1 = 3 * 0.1; // position 3 × 100^(−2/4)
        double[] expected = {
            1 * Math.cos(a0) - 3 * Math.sin(a0), 2 * Math.cos(a1) - 4 * Math.sin(a1),
            3 * Math.cos(a0) + 1 * Math.sin(a0), 4 * Math.cos(a1) + 2 * Math.sin(a1)};
        assertArrayEquals(expected, x, 1e-12);
    }

    @Test
    void geluNewIsTheTanhApproximation() {
        assertEquals(0, HfReference.geluNew(0), 0);
        for (double x : new double[] {0.1, 0.5, 1, 2.5, 7}) {
            // 0.5x(1+tanh u) − (−0.5x)(1−tanh u) = x, since tanh is odd
            assertEquals(x, HfReference.geluNew(x) - HfReference.geluNew(-x), 1e-12, "x=" + x);
        }
        // exact GELU(1) = Φ(1) = 0.8413447460685429; the tanh form is within 2e-4 of it but not equal
        double g1 = HfReference.geluNew(1);
        assertTrue(Math.abs(g1 - 0.8413447460685429) < 2e-4 && g1 != 0.8413447460685429, "gelu_new(1)=" + g1);
        assertEquals(20, HfReference.geluNew(20), 1e-12);
    }

    @Test
    void normsMatchHandValues() {
        double s = Math.sqrt(12.5 + EPS); // rms of (3, 4)
        assertArrayEquals(new double[] {3 / s, 8 / s}, HfReference.rmsNorm(new double[] {3, 4}, new double[] {1, 2},
                EPS), 1e-12);
        double sd = Math.sqrt(1 + EPS); // (1, 3): mean 2, biased variance 1
        assertArrayEquals(new double[] {-2 / sd + 0.5, 1 / sd - 0.5},
                HfReference.layerNorm(new double[] {1, 3}, new double[] {2, 1}, new double[] {0.5, -0.5}, EPS), 1e-12);
    }

    /** With o_proj and down_proj zero, the blocks add nothing: logits = lm_head · RMSNorm(embedding). */
    @Test
    void llamaWithSilentBlocksIsNormThenHead() {
        LlamaConfig c = new LlamaConfig(3, 2, 3, 1, 1, 1, 2, 8, EPS, 10000, false, false, false, 0.02);
        Map<String, Tensor> w = TestModels.zeros(c);
        TestModels.set(w, "model.embed_tokens.weight", new double[][] {{3, 4}, {1, 0}, {0, -2}});
        TestModels.set(w, "model.norm.weight", 1, 2);
        TestModels.set(w, "lm_head.weight", new double[][] {{1, 0}, {0, 1}, {1, 1}});
        TestModels.set(w, "model.layers.0.self_attn.q_proj.weight", new double[][] {{5, 1}, {2, 3}});
        TestModels.set(w, "model.layers.0.mlp.up_proj.weight", new double[][] {{1, 1}, {2, 1}, {0, 3}});
        double[][] logits = HfReference.logits(new BaseModel(c, w), null, new int[] {0, 2});
        double s0 = Math.sqrt(12.5 + EPS);
        double s2 = Math.sqrt(2 + EPS);
        assertArrayEquals(new double[] {3 / s0, 8 / s0, 11 / s0}, logits[0], 1e-12);
        assertArrayEquals(new double[] {0, -4 / s2, -4 / s2}, logits[1], 1e-12);
    }

    /**
     * One head, v_proj = o_proj = identity, q_proj = 0: every score is 0, so position t attends uniformly to
     * 0..t, and the attention output is the mean of the normed inputs so far.
     */
    @Test
    void llamaUniformAttentionAveragesThePrefix() {
        LlamaConfig c = new LlamaConfig(3, 2, 3, 1, 1, 1, 2, 8, EPS, 10000, false, false, true, 0.02);
        Map<String, Tensor> w = TestModels.zeros(c);
        double[][] embed = {{3, 4}, {1, 0}, {0, -2}};
        TestModels.set(w, "model.embed_tokens.weight", embed);
        TestModels.set(w, "model.norm.weight", 1, 1);
        TestModels.set(w, "model.layers.0.input_layernorm.weight", 1, 1);
        TestModels.set(w, "model.layers.0.self_attn.k_proj.weight", new double[][] {{1, 2}, {3, 4}});
        TestModels.set(w, "model.layers.0.self_attn.v_proj.weight", new double[][] {{1, 0}, {0, 1}});
        TestModels.set(w, "model.layers.0.self_attn.o_proj.weight", new double[][] {{1, 0}, {0, 1}});
        int[] tokens = {0, 1, 2};
        double[][] logits = HfReference.logits(new BaseModel(c, w), null, tokens);
        double[] ones = {1, 1};
        double[] sum = new double[2];
        for (int t = 0; t < tokens.length; t++) {
            double[] x = HfReference.rmsNorm(embed[tokens[t]], ones, EPS);
            sum[0] += x[0];
            sum[1] += x[1];
            double[] h = {embed[tokens[t]][0] + sum[0] / (t + 1), embed[tokens[t]][1] + sum[1] / (t + 1)};
            double[] f = HfReference.rmsNorm(h, ones, EPS);
            for (int v = 0; v < 3; v++) { // tied head: embedding rows
                assertEquals(f[0] * embed[v][0] + f[1] * embed[v][1], logits[t][v], 1e-12, "t=" + t + " v=" + v);
            }
        }
    }

    /**
     * GPT-2 with every block weight zero adds nothing: logits = wte · LayerNorm(wte[token] + wpe[position]). Then
     * c_attn whose third block (v) is the identity and c_proj the identity: position t adds the mean of ln_1 outputs.
     */
    @Test
    void gpt2HandCases() {
        Gpt2Config c = gpt2(3, 2, 1, 1);
        Map<String, Tensor> w = TestModels.zeros(c);
        double[][] wte = {{1, 3}, {2, 0}, {0, 1}};
        TestModels.set(w, "transformer.wte.weight", wte);
        TestModels.set(w, "transformer.wpe.weight", new double[][] {{0, 0}, {1, 1}});
        TestModels.set(w, "transformer.h.0.ln_1.weight", 1, 1);
        TestModels.set(w, "transformer.h.0.ln_2.weight", 1, 1);
        TestModels.set(w, "transformer.ln_f.weight", 1, 1);
        double sd = Math.sqrt(1 + EPS);
        double[][] logits = HfReference.logits(new BaseModel(c, w), null, new int[] {0, 1});
        assertArrayEquals(new double[] {2 / sd, -2 / sd, 1 / sd}, logits[0], 1e-12); // LN(1,3) = (−1,1)/sd
        assertArrayEquals(new double[] {-2 / sd, 2 / sd, -1 / sd}, logits[1], 1e-12); // LN(3,1) = (1,−1)/sd

        // c_attn (in, out) = (2, 6): columns 4..5 are v = x; q = k = 0 so attention is uniform
        TestModels.set(w, "transformer.h.0.attn.c_attn.weight", new double[][] {{0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 1}});
        TestModels.set(w, "transformer.h.0.attn.c_attn.bias", 7, -7, 5, 5, 0, 0); // q, k biases: still no preference
        TestModels.set(w, "transformer.h.0.attn.c_proj.weight", new double[][] {{1, 0}, {0, 1}});
        logits = HfReference.logits(new BaseModel(c, w), null, new int[] {0, 1});
        // position 1: h = (3, 1) + mean(LN(1,3), LN(3,1)) = (3, 1) + 0 → LN = (1, −1)/sd
        assertArrayEquals(new double[] {-2 / sd, 2 / sd, -1 / sd}, logits[1], 1e-9);
        // position 0: h = (1, 3) + LN(1, 3) = (1 − 1/sd, 3 + 1/sd)
        double[] f = HfReference.layerNorm(new double[] {1 - 1 / sd, 3 + 1 / sd}, new double[] {1, 1},
                new double[] {0, 0}, EPS);
        for (int v = 0; v < 3; v++) {
            assertEquals(f[0] * wte[v][0] + f[1] * wte[v][1], logits[0][v], 1e-12);
        }
    }

    @Test
    void earlierPositionsIgnoreLaterTokens() {
        for (ModelConfig c : List.of(llama(11, 8, 2, 1, 4, false, true), gpt2(11, 8, 2, 2))) {
            BaseModel m = TestModels.random(c, 3, 0.3);
            int[] a = {1, 5, 7, 2, 9};
            int[] b = {1, 5, 7, 4, 0};
            double[][] la = HfReference.logits(m, null, a);
            double[][] lb = HfReference.logits(m, null, b);
            double[][] prefix = HfReference.logits(m, null, Arrays.copyOf(a, 3));
            for (int t = 0; t < 3; t++) {
                assertArrayEquals(la[t], lb[t], 1e-12, c.modelType() + " t=" + t);
                assertArrayEquals(la[t], prefix[t], 1e-12, c.modelType() + " t=" + t);
            }
            assertNotEquals(la[3][0], lb[3][0], c.modelType());
        }
    }

    /** Grouped-query attention is multi-head attention with each k/v head repeated (repeat_kv). */
    @Test
    void groupedQueryAttentionEqualsRepeatedKeyValueHeads() {
        LlamaConfig gqa = llama(13, 8, 4, 2, 4, false, true);
        LlamaConfig mha = llama(13, 8, 4, 4, 4, false, true);
        BaseModel g = TestModels.random(gqa, 5, 0.3);
        Map<String, Tensor> w = new LinkedHashMap<>();
        g.weights().forEach((k, t) -> w.put(k, t.copy()));
        int hd = 4;
        for (int l = 0; l < 2; l++) {
            for (String proj : List.of("k_proj", "v_proj")) {
                String p = "model.layers." + l + ".self_attn." + proj;
                Tensor wk = g.weight(p + ".weight"); // (2·4, 8)
                Tensor bk = g.weight(p + ".bias");
                Tensor wr = Tensor.zeros(16, 8);
                Tensor br = Tensor.zeros(16);
                for (int row = 0; row < 16; row++) {
                    int src = (row / hd / 2) * hd + row % hd; // head h reads kv head h / 2
                    for (int i = 0; i < 8; i++) {
                        wr.set(row * 8 + i, wk.get(src * 8 + i));
                    }
                    br.set(row, bk.get(src));
                }
                w.put(p + ".weight", wr);
                w.put(p + ".bias", br);
            }
        }
        int[] tokens = TestModels.tokens(6, 13, 9);
        double[][] lg = HfReference.logits(g, null, tokens);
        double[][] lm = HfReference.logits(new BaseModel(mha, w), null, tokens);
        for (int t = 0; t < tokens.length; t++) {
            assertArrayEquals(lg[t], lm[t], 1e-10, "t=" + t);
        }
    }

    @Test
    void tiedHeadEqualsUntiedHeadHoldingTheEmbedding() {
        LlamaConfig tied = llama(9, 8, 2, 2, 4, true, false);
        LlamaConfig untied = llama(9, 8, 2, 2, 4, false, false);
        BaseModel t = TestModels.random(tied, 7, 0.3);
        Map<String, Tensor> w = new LinkedHashMap<>(t.weights());
        w.put("lm_head.weight", t.weight("model.embed_tokens.weight").copy());
        int[] tokens = {1, 8, 3, 3};
        double[][] a = HfReference.logits(t, null, tokens);
        double[][] b = HfReference.logits(new BaseModel(untied, w), null, tokens);
        for (int i = 0; i < tokens.length; i++) {
            assertArrayEquals(a[i], b[i], 0);
        }
    }

    /** LoRA equals its merge: W + s·B·A for torch Linear (out, in), W + s·(B·A)ᵀ for GPT-2's Conv1D (in, out). */
    @Test
    void loraEqualsMergedWeights() {
        for (ModelConfig c : List.of(llama(11, 8, 2, 1, 4, false, true), gpt2(11, 8, 2, 2))) {
            BaseModel base = TestModels.random(c, 11, 0.3);
            List<String> names = c instanceof LlamaConfig ? List.of("q_proj", "v_proj", "o_proj", "down_proj")
                    : List.of("c_attn", "c_proj", "c_fc");
            LoraAdapter adapter = new LoraAdapter(null, TestModels.randomModules(c, names, 2, 13));
            Map<String, Tensor> merged = new LinkedHashMap<>();
            base.weights().forEach((k, t) -> merged.put(k, t.copy()));
            for (LoraModule m : adapter.modules().values()) {
                LinearModule lin = m.target();
                Tensor wt = merged.get(lin.weightKey());
                for (int o = 0; o < lin.outFeatures(); o++) {
                    for (int i = 0; i < lin.inFeatures(); i++) {
                        double d = 0;
                        for (int r = 0; r < m.rank(); r++) {
                            d += m.loraB().value().get(o * m.rank() + r)
                                    * m.loraA().value().get(r * lin.inFeatures() + i);
                        }
                        int at = c instanceof LlamaConfig ? o * lin.inFeatures() + i : i * lin.outFeatures() + o;
                        wt.set(at, (float) (wt.get(at) + m.scaling() * d));
                    }
                }
            }
            int[] tokens = TestModels.tokens(7, 11, 17);
            double[][] withLora = HfReference.logits(base, HfReference.fromAdapter(adapter), tokens);
            double[][] plain = HfReference.logits(base, null, tokens);
            double[][] mergedLogits = HfReference.logits(new BaseModel(c, merged), null, tokens);
            for (int t = 0; t < tokens.length; t++) {
                assertArrayEquals(mergedLogits[t], withLora[t], 1e-5, c.modelType() + " t=" + t);
            }
            assertTrue(Math.abs(plain[6][0] - withLora[6][0]) > 1e-3, c.modelType() + ": LoRA changed nothing");
        }
    }

    @Test
    void loraOnAMissingLayerIsRefused() {
        LlamaConfig c = llama(5, 4, 1, 1, 4, true, false);
        HfReference.Lora l = new HfReference.Lora(new double[][] {{1, 1, 1, 1}}, new double[][] {{1}, {1}, {1}, {1}},
                1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfReference.logits(
                TestModels.random(c, 1, 0.1), Map.of("model.layers.9.self_attn.q_proj", l), new int[] {1, 2}));
        assertEquals("Cannot apply LoRA: no linear layer at [model.layers.9.self_attn.q_proj]", e.getMessage());
    }

    /** Zero final-norm gain makes every logit 0: each prediction costs ln(vocab). */
    @Test
    void uniformLogitsCostLnVocabAndTheScoreWindowsCount() {
        LlamaConfig c = llama(7, 4, 1, 1, 4, true, false);
        Map<String, Tensor> w = new LinkedHashMap<>(TestModels.random(c, 2, 0.3).weights());
        w.put("model.norm.weight", Tensor.zeros(4));
        BaseModel m = new BaseModel(c, w);
        int[] stream = TestModels.tokens(10, 7, 4);
        HfReference.Score s4 = HfReference.score(m, null, stream, 4); // windows 4, 4, 2 → 3 + 3 + 1
        assertEquals(7, s4.tokensScored());
        assertEquals(Math.log(7), s4.meanLoss(), 1e-12);
        assertEquals(6, HfReference.score(m, null, stream, 3).tokensScored()); // 3, 3, 3, 1 → 2 + 2 + 2 + 0
    }

    /** A single window covering the stream is ordinary next-token loss, the same with softmax shifted. */
    @Test
    void oneWindowScoreIsNextTokenLoss() {
        Gpt2Config c = gpt2(11, 8, 2, 1);
        BaseModel m = TestModels.random(c, 21, 0.5);
        int[] stream = TestModels.tokens(9, 11, 5);
        int[] targets = new int[9];
        for (int i = 0; i < 8; i++) {
            targets[i] = stream[i + 1];
        }
        targets[8] = -100;
        double[][] logits = HfReference.logits(m, null, stream);
        double expected = 0;
        for (int i = 0; i < 8; i++) {
            double z = 0;
            for (double v : logits[i]) {
                z += Math.exp(v);
            }
            expected += Math.log(z) - logits[i][stream[i + 1]];
        }
        expected /= 8;
        HfReference.Score s = HfReference.score(m, null, stream, 16);
        assertEquals(8, s.tokensScored());
        assertEquals(expected, s.meanLoss(), 1e-12);
        assertEquals(expected, HfReference.meanLoss(m, null, stream, targets), 1e-12);
    }
}
