package io.sparklora.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.nn.CausalLms;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Greedy decoding against a step-by-step argmax, top-p and seeds, and the stop at max positions. */
class GeneratorTest {
    // A random model with a wide init so its logits are far from uniform and samples differ from greedy.
    private static final LlamaConfig CONFIG = new LlamaConfig(256, 32, 64, 2, 4, 4, 8, 24, 1e-6, 10000, false, false,
            false, 0.5);
    private static final int[] PROMPT = {72, 101, 108, 108, 111}; // "Hello"

    private static CausalLm model() {
        BaseModel base = Checkpoints.random(CONFIG, 11);
        return CausalLms.of(base);
    }

    @Test
    void greedyIsTheArgmaxOfEachStepsLogitsAndDeterministic() {
        CausalLm lm = model();
        Generator.Result result = new Generator(lm).generate(PROMPT, Sampling.greedy(8));
        assertEquals(Generator.Stop.MAX_NEW_TOKENS, result.stop());
        assertEquals(8, result.tokens().length);

        // The reference: forward the growing prefix by hand and take the argmax of the last row each time.
        int[] seq = PROMPT.clone();
        for (int step = 0; step < 8; step++) {
            lm.forward(Batch.nextTokenPrediction(seq));
            Tensor logits = lm.logits();
            int best = 0;
            for (int v = 1; v < 256; v++) {
                if (logits.get((seq.length - 1) * 256 + v) > logits.get((seq.length - 1) * 256 + best)) {
                    best = v;
                }
            }
            assertEquals(best, result.tokens()[step], "step " + step);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
        assertArrayEquals(result.tokens(), new Generator(model()).generate(PROMPT, Sampling.greedy(8)).tokens());
    }

    @Test
    void tinyTopPIsGreedyAndSeedsReproduceSamples() {
        int[] greedy = new Generator(model()).generate(PROMPT, Sampling.greedy(10)).tokens();
        int[] nucleusOfOne = new Generator(model()).generate(PROMPT, new Sampling(10, 1.0, 1e-9, 5)).tokens();
        assertArrayEquals(greedy, nucleusOfOne);

        int[] a = new Generator(model()).generate(PROMPT, new Sampling(10, 1.5, 1.0, 123)).tokens();
        int[] b = new Generator(model()).generate(PROMPT, new Sampling(10, 1.5, 1.0, 123)).tokens();
        assertArrayEquals(a, b, "same seed, same sample");
        Set<String> samples = new HashSet<>();
        for (long seed = 0; seed < 5; seed++) {
            samples.add(Arrays.toString(new Generator(model()).generate(PROMPT, new Sampling(10, 1.5, 1.0, seed))
                    .tokens()));
        }
        assertTrue(samples.size() > 1, "different seeds give different samples: " + samples);
        assertFalse(Arrays.equals(greedy, a), "temperature 1.5 over a broad distribution leaves the greedy path");
    }

    @Test
    void sampleFollowsTheNucleusDistribution() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        SplitMix64 rng = new SplitMix64(1);
        int[] counts = new int[4];
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[Generator.sample(logits, 1.0, 0.8, rng)]++;
        }
        // top-p 0.8 keeps {0.5, 0.3}, renormalised to 0.625 / 0.375
        assertEquals(0, counts[2] + counts[3]);
        assertEquals(0.625, counts[0] / (double) n, 0.015);
        assertEquals(0.375, counts[1] / (double) n, 0.015);
    }

    @Test
    void stopsCleanlyAtMaxPositions() {
        Generator.Result r = new Generator(model()).generate(PROMPT, Sampling.greedy(100));
        assertEquals(Generator.Stop.MAX_POSITIONS, r.stop());
        assertEquals(CONFIG.maxPositions() - PROMPT.length, r.tokens().length);

        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model()).generate(new int[25], Sampling.greedy(1)));
        assertEquals("Cannot generate: the prompt has 25 tokens, the model's max positions is 24",
                tooLong.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model()).generate(new int[0], Sampling.greedy(1)));
        assertEquals("Cannot generate: the prompt has no tokens", empty.getMessage());
    }

    @Test
    void samplingIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sampling(5, 1, 0, 1));
        assertEquals("Invalid topP 0.0: must be in (0, 1]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Sampling(5, -1, 1, 1));
        assertEquals("Invalid temperature -1.0: must be >= 0 and finite (0 = greedy)", e.getMessage());
    }
}
