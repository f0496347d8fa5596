package io.sparklora.nn;

import static io.sparklora.nn.NnTestSupport.randomAdapter;
import static io.sparklora.nn.NnTestSupport.randomBase;
import static io.sparklora.nn.NnTestSupport.randomBatch;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.RopeScaling;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.reference.HfReference;
import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Whole-model forward passes against the naive reference and against the invariants LoRA and causality imply. */
class ModelTest {
    static final LlamaConfig LLAMA = new LlamaConfig(19, 16, 24, 2, 4, 2, 4, 16, 1e-6, 10000.0, true, false, false,
            0.02);
    static final LlamaConfig LLAMA_TIED = new LlamaConfig(19, 16, 24, 2, 4, 4, 4, 16, 1e-5, 500.0, false, true, true,
            0.02);
    static final Gpt2Config GPT2 = new Gpt2Config(19, 16, 2, 4, 16, 24, 1e-5, 0.02);
    static final LlamaConfig QWEN3 = new LlamaConfig(LlamaFamily.QWEN3, 19, 16, 24, 2, 4, 2, 6, 16, 1e-6, 1e6, false,
            false, true, 0.02, RopeScaling.NONE, 0);
    static final LlamaConfig QWEN2 = new LlamaConfig(LlamaFamily.QWEN2, 19, 16, 24, 2, 4, 2, 4, 16, 1e-6, 1e4, false,
            false, false, 0.02, RopeScaling.llama3(4, 1, 4, 8), 0);

    private static float[] logits(CausalLm lm, Batch batch) {
        lm.forward(batch);
        return lm.logits().toArray();
    }

    private static void assertMatchesReference(ModelConfig config) {
        BaseModel base = randomBase(config, 11, 0.3);
        LoraAdapter adapter = randomAdapter(config, null, 2, 0f, 12, 0.3);
        Batch batch = randomBatch(2, 7, config.vocabSize(), 13);
        CausalLm lm = CausalLms.withAdapter(base, adapter);
        double loss = lm.forward(batch);
        double[][] ref = referenceLogits(base, adapter, batch);
        float[] got = lm.logits().toArray();
        for (int r = 0; r < ref.length; r++) {
            for (int j = 0; j < ref[r].length; j++) {
                assertEquals(ref[r][j], got[r * ref[r].length + j], 1e-4, "logit " + r + "," + j);
            }
        }
        assertEquals(HfReference.meanLoss(ref, batch.targets()), loss, 1e-5);
    }

    /** (rows, vocab) logits of the independent double-precision reference, one sequence of the batch at a time. */
    private static double[][] referenceLogits(BaseModel base, LoraAdapter adapter, Batch batch) {
        Map<String, HfReference.Lora> lora = HfReference.fromAdapter(adapter);
        double[][] out = new double[batch.rows()][];
        for (int b = 0; b < batch.batchSize(); b++) {
            int[] tokens = Arrays.copyOfRange(batch.inputs(), b * batch.seqLen(), (b + 1) * batch.seqLen());
            double[][] seq = HfReference.logits(base, lora, tokens);
            System.arraycopy(seq, 0, out, b * batch.seqLen(), batch.seqLen());
        }
        return out;
    }

    @Test
    void llamaWithGqaBiasesAndLoraMatchesReference() {
        assertMatchesReference(LLAMA);
    }

    @Test
    void tiedLlamaWithMlpBiasMatchesReference() {
        assertMatchesReference(LLAMA_TIED);
    }

    /** head_dim 6 with 4 heads: q is 24 wide, the hidden size 16. */
    @Test
    void llamaWithExplicitHeadDimMatchesReference() {
        assertMatchesReference(new LlamaConfig(19, 16, 24, 2, 4, 2, 6, 16, 1e-6, 10000.0, false, false, false, 0.02));
    }

    @Test
    void gpt2WithLoraMatchesReference() {
        assertMatchesReference(GPT2);
    }

    /** Mistral's sliding window: sequences up to it are exact; longer ones are refused, naming the window. */
    @Test
    void slidingWindowBeyondTheSequenceIsRefused() {
        LlamaConfig mistral = LLAMA.withFamily(LlamaFamily.MISTRAL).withSlidingWindow(6);
        assertEquals(6, mistral.maxPositions());
        CausalLm lm = CausalLms.of(randomBase(mistral, 41, 0.3));
        lm.forward(randomBatch(1, 6, mistral.vocabSize(), 42));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lm.forward(randomBatch(1, 7, mistral.vocabSize(), 42)));
        assertEquals("Cannot run mistral model on sequences of 7 tokens: sliding_window is 6 and sliding-window "
                + "attention is not implemented, so sequences may hold at most 6 tokens", e.getMessage());
    }

    /** All-linear LoRA on Qwen2: the trainable tensors are A and B alone; a step leaves q/k/v biases untouched. */
    @Test
    void qwen2BiasesAreNotTrainedByLora() {
        BaseModel base = randomBase(QWEN2, 43, 0.3);
        Map<String, float[]> before = new LinkedHashMap<>();
        base.weights().forEach((k, t) -> before.put(k, t.toArray()));
        LoraAdapter adapter = randomAdapter(QWEN2, null, 2, 0f, 44, 0.3);
        assertEquals(7 * QWEN2.numHiddenLayers(), adapter.modules().size(), "all-linear covers every projection");
        CausalLm lm = CausalLms.withAdapter(base, adapter);
        assertEquals(2 * adapter.modules().size(), lm.trainableParameters().size());
        lm.forward(randomBatch(2, 7, QWEN2.vocabSize(), 45));
        lm.backward();
        for (var p : lm.trainableParameters()) {
            assertTrue(p.name().contains(".lora_A.") || p.name().contains(".lora_B."), p.name());
            for (int i = 0; i < p.value().size(); i++) {
                p.value().set(i, p.value().get(i) - 0.1f * p.grad().get(i));
            }
        }
        assertTrue(base.weights().containsKey("model.layers.1.self_attn.k_proj.bias"));
        assertFalse(base.weights().containsKey("model.layers.1.self_attn.o_proj.bias"));
        base.weights().forEach((k, t) -> assertArrayEquals(before.get(k), t.toArray(), 0f, k));
    }

    @Test
    void zeroBGivesExactlyTheBaseLogits() {
        for (ModelConfig config : List.of(LLAMA, GPT2, QWEN2, QWEN3)) {
            BaseModel base = randomBase(config, 21, 0.3);
            Batch batch = randomBatch(2, 9, config.vocabSize(), 22);
            LoraAdapter zeroB = randomAdapter(config, null, 3, 0f, 23, 0.0);
            assertArrayEquals(logits(CausalLms.of(base), batch), logits(CausalLms.withAdapter(base, zeroB), batch),
                    config.modelType());
        }
    }

    /** W ← W + s·B·A (transposed for Conv1D), by a naive loop, gives the unmerged model's logits. */
    @Test
    void mergedLogitsEqualUnmerged() {
        for (ModelConfig config : List.of(LLAMA, GPT2, QWEN2, QWEN3)) {
            BaseModel base = randomBase(config, 31, 0.3);
            LoraAdapter adapter = randomAdapter(config, null, 3, 0f, 32, 0.3);
            Batch batch = randomBatch(2, 9, config.vocabSize(), 33);
            float[] unmerged = logits(CausalLms.withAdapter(base, adapter), batch);
            BaseModel merged = base.copy();
            for (LoraModule m : adapter.modules().values()) {
                LinearModule t = m.target();
                Tensor w = merged.weight(t.weightKey());
                for (int o = 0; o < t.outFeatures(); o++) {
                    for (int i = 0; i < t.inFeatures(); i++) {
                        double s = 0;
                        for (int q = 0; q < m.rank(); q++) {
                            s += m.loraB().value().get(o * m.rank() + q) * m.loraA().value().get(q * t.inFeatures() + i);
                        }
                        int at = t.layout() == WeightLayout.OUT_IN ? o * t.inFeatures() + i : i * t.outFeatures() + o;
                        w.set(at, (float) (w.get(at) + m.scaling() * s));
                    }
                }
            }
            float[] mergedLogits = logits(CausalLms.of(merged), batch);
            float max = 0;
            for (float v : unmerged) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < unmerged.length; i++) {
                assertEquals(unmerged[i], mergedLogits[i], 1e-5 * max, config.modelType() + " logit " + i);
            }
        }
    }

    /** Grouped-query attention with 2 kv heads equals multi-head attention whose kv heads repeat per group. */
    @Test
    void gqaEqualsMhaWithRepeatedKvHeads() {
        LlamaConfig mha = new LlamaConfig(19, 16, 24, 2, 4, 4, 4, 16, 1e-6, 10000.0, true, false, false, 0.02);
        BaseModel gqaBase = randomBase(LLAMA, 41, 0.3);
        Map<String, Tensor> w = new LinkedHashMap<>(gqaBase.weights());
        int hd = 4, d = 16, group = 2;
        for (String key : gqaBase.weights().keySet()) {
            if (key.contains("k_proj") || key.contains("v_proj")) {
                Tensor src = gqaBase.weight(key);
                int cols = key.endsWith("weight") ? d : 1;
                Tensor dst = key.endsWith("weight") ? Tensor.zeros(4 * hd, d) : Tensor.zeros(4 * hd);
                for (int h = 0; h < 4; h++) {
                    for (int i = 0; i < hd * cols; i++) {
                        dst.set(h * hd * cols + i, src.get((h / group) * hd * cols + i));
                    }
                }
                w.put(key, dst);
            }
        }
        Batch batch = randomBatch(2, 9, 19, 42);
        float[] expected = logits(CausalLms.of(gqaBase), batch);
        float[] got = logits(CausalLms.of(new BaseModel(mha, w)), batch);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-5, "logit " + i);
        }
    }

    /** Changing token t of a sequence changes no logit before t, in any sequence, and does change logits at t. */
    @Test
    void causalMask() {
        for (ModelConfig config : List.of(LLAMA, GPT2)) {
            BaseModel base = randomBase(config, 51, 0.3);
            CausalLm lm = CausalLms.withAdapter(base, randomAdapter(config, null, 2, 0f, 52, 0.3));
            int seq = 8, t = 5;
            Batch batch = randomBatch(2, seq, config.vocabSize(), 53);
            float[] before = logits(lm, batch);
            int[] changed = batch.inputs().clone();
            changed[seq + t] = (changed[seq + t] + 1) % config.vocabSize();
            float[] after = logits(lm, new Batch(2, seq, changed, batch.targets()));
            int v = config.vocabSize();
            for (int r = 0; r < 2 * seq; r++) {
                boolean mayChange = r >= seq + t;
                for (int j = 0; j < v; j++) {
                    if (!mayChange) {
                        assertEquals(before[r * v + j], after[r * v + j], 0f, config.modelType() + " row " + r);
                    }
                }
            }
            assertTrue(before[(seq + t) * v] != after[(seq + t) * v], "the changed position's logits move");
        }
    }

    /** Dropout acts only in train(): eval logits equal the dropout-free adapter's exactly; train logits differ. */
    @Test
    void loraDropoutOnlyInTraining() {
        BaseModel base = randomBase(LLAMA, 61, 0.3);
        LoraAdapter dropped = randomAdapter(LLAMA, Set.of("q_proj", "v_proj"), 2, 0.5f, 62, 0.3);
        LoraAdapter plain = randomAdapter(LLAMA, Set.of("q_proj", "v_proj"), 2, 0f, 62, 0.3);
        Batch batch = randomBatch(1, 6, 19, 63);
        CausalLm lm = CausalLms.withAdapter(base, dropped);
        float[] eval = logits(lm, batch);
        assertArrayEquals(logits(CausalLms.withAdapter(base, plain), batch), eval);
        lm.train();
        long state = lm.dropoutRng().state();
        float[] train = logits(lm, batch);
        assertFalse(java.util.Arrays.equals(eval, train), "dropout changes training logits");
        assertTrue(lm.dropoutRng().state() != state, "masks are drawn from dropoutRng()");
        lm.dropoutRng().setState(state);
        assertArrayEquals(train, logits(lm, batch), "the same rng state gives the same masks");
    }

    /** Buffers are reused for a repeated shape and reallocated for a new one, with the same results. */
    @Test
    void shapeChangesReallocate() {
        BaseModel base = randomBase(GPT2, 71, 0.3);
        CausalLm lm = CausalLms.of(base);
        Batch small = randomBatch(1, 4, 19, 72);
        Batch big = randomBatch(3, 10, 19, 73);
        float[] first = logits(lm, small);
        logits(lm, big);
        assertArrayEquals(first, logits(lm, small));
        assertArrayEquals(logits(CausalLms.of(base), big), logits(lm, big));
    }

    /** One position per sequence, no target: loss 0 and backward adds nothing. */
    @Test
    void singlePositionWithoutTargets() {
        for (ModelConfig config : List.of(LLAMA, GPT2)) {
            LoraAdapter adapter = randomAdapter(config, null, 2, 0f, 74, 0.3);
            CausalLm lm = CausalLms.withAdapter(randomBase(config, 75, 0.3), adapter);
            Batch batch = new Batch(2, 1, new int[] {4, 7}, new int[] {Batch.IGNORE, Batch.IGNORE});
            assertEquals(0.0, lm.forward(batch));
            lm.backward();
            for (var p : lm.trainableParameters()) {
                for (float g : p.grad().toArray()) {
                    assertEquals(0f, g, p.name());
                }
            }
        }
    }

    @Test
    void errorsNameTheInput() {
        BaseModel base = randomBase(LLAMA, 81, 0.3);
        CausalLm lm = CausalLms.of(base);
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> lm.forward(randomBatch(1, 17, 19, 1)));
        assertEquals("Cannot run llama model on sequences of 17 tokens: max_position_embeddings is 16",
                tooLong.getMessage());
        IllegalArgumentException badToken = assertThrows(IllegalArgumentException.class,
                () -> lm.forward(new Batch(1, 2, new int[] {3, 19}, new int[] {19, Batch.IGNORE})));
        assertEquals("Cannot embed token 19 at row 1: outside the vocabulary of size 19", badToken.getMessage());
        IllegalArgumentException badAdapter = assertThrows(IllegalArgumentException.class,
                () -> CausalLms.withAdapter(base, randomAdapter(GPT2, Set.of("c_fc"), 2, 0f, 1, 0.1)));
        assertEquals("Cannot apply adapter: module transformer.h.0.mlp.c_fc is not a linear layer of this llama model",
                badAdapter.getMessage());
        IllegalStateException noForward = assertThrows(IllegalStateException.class, lm::backward);
        assertEquals("Cannot run backward: no forward pass has run", noForward.getMessage());
    }
}
