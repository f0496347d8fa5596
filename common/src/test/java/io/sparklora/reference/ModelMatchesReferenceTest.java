package io.sparklora.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.eval.ScoreResult;
import io.sparklora.eval.Scorer;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.RopeScaling;
import io.sparklora.model.ModelConfig;
import io.sparklora.nn.CausalLms;
import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast float32 models ({@link CausalLms}) and {@link Scorer} against the independent double-precision
 * {@link HfReference}: logits within 1e-4 (absolute plus relative), batch loss and score mean_loss within 1e-4, for
 * random tiny models of every variant the configs allow, with and without a LoRA adapter whose B is non-zero.
 */
class ModelMatchesReferenceTest {
    private static final double TOL = 1e-4;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama GQA, untied, attention and mlp bias",
                        new LlamaConfig(37, 16, 24, 2, 4, 2, 4, 32, 1e-5, 500.0, true, true, false, 0.02),
                        List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
                Arguments.of("llama 4 heads on 1 kv head, tied, head_dim 8 ≠ hidden/heads",
                        new LlamaConfig(29, 16, 20, 2, 4, 1, 8, 32, 1e-6, 10000.0, false, false, true, 0.02),
                        List.of("q_proj", "v_proj", "down_proj")),
                Arguments.of("llama multi-head, attention bias only",
                        new LlamaConfig(31, 12, 16, 1, 2, 2, 6, 32, 1e-6, 10000.0, true, false, true, 0.02),
                        List.of("k_proj", "o_proj", "up_proj")),
                Arguments.of("gpt2",
                        new Gpt2Config(41, 16, 2, 2, 32, 40, 1e-5, 0.02),
                        List.of("c_attn", "c_proj", "c_fc")),
                Arguments.of("qwen2: q/k/v biases, GQA, untied",
                        qwen2(32), ALL_LINEAR),
                Arguments.of("qwen3: q/k norms, head_dim 8 ≠ hidden/heads, tied",
                        qwen3(32), ALL_LINEAR),
                Arguments.of("qwen3 with attention_bias",
                        new LlamaConfig(LlamaFamily.QWEN3, 33, 16, 20, 2, 4, 2, 6, 32, 1e-6, 1e6, true, false, false,
                                0.02, RopeScaling.NONE, 0), ALL_LINEAR),
                Arguments.of("mistral, sliding_window 24 ≥ sequence",
                        new LlamaConfig(LlamaFamily.MISTRAL, 35, 16, 24, 2, 4, 1, 4, 32, 1e-5, 1e4, false, false,
                                false, 0.02, RopeScaling.NONE, 24), ALL_LINEAR),
                Arguments.of("llama, rope_scaling linear 4",
                        new LlamaConfig(29, 16, 20, 2, 4, 2, 8, 32, 1e-6, 500.0, false, false, true, 0.02)
                                .withRopeScaling(RopeScaling.linear(4)), List.of("q_proj", "k_proj")),
                Arguments.of("llama, rope_scaling llama3 (all three bands of head_dim 8)",
                        new LlamaConfig(29, 16, 20, 2, 4, 2, 8, 32, 1e-6, 10000.0, false, false, true, 0.02)
                                .withRopeScaling(RopeScaling.llama3(8, 1, 8, 256)), List.of("q_proj", "k_proj")));
    }

    private static final List<String> ALL_LINEAR =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private static LlamaConfig qwen2(int maxPositions) {
        return new LlamaConfig(LlamaFamily.QWEN2, 37, 16, 24, 2, 4, 2, 4, maxPositions, 1e-6, 1e6, false, false,
                false, 0.02, RopeScaling.NONE, 0);
    }

    private static LlamaConfig qwen3(int maxPositions) {
        return new LlamaConfig(LlamaFamily.QWEN3, 31, 16, 24, 2, 4, 2, 8, maxPositions, 1e-6, 1e6, false, false,
                true, 0.02, RopeScaling.NONE, 0);
    }

    /**
     * 80-token sequences, longer than the attention's query block ({@code Attention.BLOCK} = 64), so a block sees
     * the keys of the blocks before it: every family with an all-linear adapter against the reference.
     */
    static Stream<Arguments> longModels() {
        return Stream.of(
                Arguments.of("qwen2", qwen2(96)),
                Arguments.of("qwen3", qwen3(96)),
                Arguments.of("mistral", new LlamaConfig(LlamaFamily.MISTRAL, 35, 16, 24, 1, 4, 2, 4, 128, 1e-5, 1e4,
                        false, false, false, 0.02, RopeScaling.NONE, 96)),
                Arguments.of("llama llama3 rope", new LlamaConfig(29, 16, 20, 1, 4, 2, 8, 96, 1e-6, 10000.0, false,
                        false, true, 0.02).withRopeScaling(RopeScaling.llama3(8, 1, 8, 256))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("longModels")
    void longSequencesMatchReference(String name, LlamaConfig config) {
        BaseModel base = TestModels.random(config, 12, 0.3);
        LoraAdapter adapter = new LoraAdapter(null, TestModels.randomModules(config, ALL_LINEAR, 2, 13));
        Map<String, HfReference.Lora> lora = HfReference.fromAdapter(adapter);
        int len = 80;
        int[][] seqs = {TestModels.tokens(len, config.vocabSize(), 303), TestModels.tokens(len, config.vocabSize(), 404)};
        for (boolean adapted : new boolean[] {false, true}) {
            CausalLm lm = adapted ? CausalLms.withAdapter(base, adapter) : CausalLms.of(base);
            int[][] targets = new int[seqs.length][];
            lm.forward(batch(seqs, targets));
            Tensor logits = lm.logits();
            int vocab = config.vocabSize();
            for (int b = 0; b < seqs.length; b++) {
                double[][] expected = HfReference.logits(base, adapted ? lora : null, seqs[b]);
                for (int t = 0; t < len; t++) {
                    for (int v = 0; v < vocab; v++) {
                        double e = expected[t][v];
                        double got = logits.get((b * len + t) * vocab + v);
                        assertTrue(Math.abs(got - e) / (1 + Math.abs(e)) <= TOL, name + (adapted ? " + LoRA" : "")
                                + ": sequence " + b + " position " + t + " vocab " + v + ": model " + got
                                + ", reference " + e);
                    }
                }
            }
        }
    }

    private static int[][] sequences(ModelConfig c) {
        return new int[][] {TestModels.tokens(9, c.vocabSize(), 101), TestModels.tokens(9, c.vocabSize(), 202)};
    }

    /** Two sequences in one batch; the second has its first three targets masked. */
    private static Batch batch(int[][] seqs, int[][] targets) {
        int len = seqs[0].length;
        int[] inputs = new int[seqs.length * len];
        int[] flatTargets = new int[seqs.length * len];
        for (int b = 0; b < seqs.length; b++) {
            targets[b] = new int[len];
            for (int t = 0; t < len; t++) {
                targets[b][t] = t + 1 < len && !(b == 1 && t < 3) ? seqs[b][t + 1] : Batch.IGNORE;
            }
            System.arraycopy(seqs[b], 0, inputs, b * len, len);
            System.arraycopy(targets[b], 0, flatTargets, b * len, len);
        }
        return new Batch(seqs.length, len, inputs, flatTargets);
    }

    private static void assertMatches(String what, CausalLm lm, BaseModel base, Map<String, HfReference.Lora> lora) {
        int[][] seqs = sequences(base.config());
        int[][] targets = new int[seqs.length][];
        Batch batch = batch(seqs, targets);
        double loss = lm.forward(batch);
        Tensor logits = lm.logits();
        int vocab = base.config().vocabSize();
        assertEquals(batch.rows() * vocab, logits.size(), what + ": logits size");
        double lossSum = 0;
        int count = 0;
        double worst = 0;
        String worstAt = "";
        for (int b = 0; b < seqs.length; b++) {
            double[][] expected = HfReference.logits(base, lora, seqs[b]);
            for (int t = 0; t < seqs[b].length; t++) {
                int row = b * seqs[b].length + t;
                for (int v = 0; v < vocab; v++) {
                    double e = expected[t][v];
                    double err = Math.abs(logits.get(row * vocab + v) - e) / (1 + Math.abs(e));
                    if (err > worst) {
                        worst = err;
                        worstAt = "sequence " + b + " position " + t + " vocab " + v + ": model "
                                + logits.get(row * vocab + v) + ", reference " + e;
                    }
                }
                if (targets[b][t] != Batch.IGNORE) {
                    lossSum += HfReference.crossEntropy(expected[t], targets[b][t]);
                    count++;
                }
            }
        }
        assertTrue(worst <= TOL, what + ": logits differ by " + worst + " at " + worstAt);
        assertEquals(lossSum / count, loss, TOL, what + ": batch loss");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void baseModelMatchesReference(String name, ModelConfig config, List<String> targets) {
        BaseModel base = TestModels.random(config, 7, 0.3);
        assertMatches(name + ", base", CausalLms.of(base), base, null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void adaptedModelMatchesReference(String name, ModelConfig config, List<String> targets) {
        BaseModel base = TestModels.random(config, 8, 0.3);
        LoraAdapter adapter = new LoraAdapter(null, TestModels.randomModules(config, targets, 2, 9));
        Map<String, HfReference.Lora> lora = HfReference.fromAdapter(adapter);
        assertMatches(name + ", LoRA on " + targets, CausalLms.withAdapter(base, adapter), base, lora);
        int[] probe = sequences(config)[0];
        double shift = Math.abs(HfReference.logits(base, lora, probe)[8][0] - HfReference.logits(base, null, probe)[8][0]);
        assertTrue(shift > 1e-3, name + ": the adapter must change the logits for this test to mean anything");
    }

    /** Scorer over the fast model against the reference's window-by-window score, with a short and a 1-token tail. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void scoreMatchesReference(String name, ModelConfig config, List<String> targets) {
        BaseModel base = TestModels.random(config, 10, 0.3);
        LoraAdapter adapter = new LoraAdapter(null, TestModels.randomModules(config, targets, 2, 11));
        Map<String, HfReference.Lora> lora = HfReference.fromAdapter(adapter);
        for (int n : new int[] {23, 21, 6}) {
            int[] stream = TestModels.tokens(n, config.vocabSize(), n);
            for (boolean adapted : new boolean[] {false, true}) {
                CausalLm lm = adapted ? CausalLms.withAdapter(base, adapter) : CausalLms.of(base);
                ScoreResult got = new Scorer(5, 3).score(lm, stream, "stream" + n);
                HfReference.Score want = HfReference.score(base, adapted ? lora : null, stream, 5);
                String what = name + (adapted ? " + LoRA" : "") + ", " + n + " tokens in windows of 5: "
                        + Arrays.toString(stream);
                assertEquals(want.tokensScored(), got.tokensScored(), what);
                assertEquals(want.meanLoss(), got.meanLoss(), TOL, what);
            }
        }
    }
}
