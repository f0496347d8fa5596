package io.sparklora.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The window rule and the aggregation of {@link Scorer}, with a bigram "model" whose loss at a position is a fixed
 * function of (input, target): any window cut, boundary crossing or mis-weighted batch changes the mean. The real
 * models are checked against the Hugging Face reference in {@code ModelMatchesReferenceTest}.
 */
class ScorerTest {
    private static final LlamaConfig CONFIG =
            new LlamaConfig(50, 4, 4, 1, 1, 1, 4, 8, 1e-6, 10000, false, false, true, 0.02);

    private static double pairLoss(int input, int target) {
        return ((input * 31 + target * 17) % 97) / 10.0;
    }

    /** Loss of each position = pairLoss(input, target); records the shape of every batch. */
    private static final class BigramLm implements CausalLm {
        final List<String> shapes = new ArrayList<>();
        boolean evalCalled;

        @Override
        public ModelConfig config() {
            return CONFIG;
        }

        @Override
        public double forward(Batch batch) {
            shapes.add(batch.batchSize() + "x" + batch.seqLen());
            double sum = 0;
            for (int i = 0; i < batch.rows(); i++) {
                if (batch.targets()[i] != Batch.IGNORE) {
                    sum += pairLoss(batch.inputs()[i], batch.targets()[i]);
                }
            }
            return sum / batch.targetCount();
        }

        @Override
        public void backward() {
            throw new UnsupportedOperationException("scoring never calls backward");
        }

        @Override
        public Tensor logits() {
            throw new UnsupportedOperationException("scoring reads only the loss");
        }

        @Override
        public List<Parameter> trainableParameters() {
            return List.of();
        }

        @Override
        public void train() {
            evalCalled = false;
        }

        @Override
        public void eval() {
            evalCalled = true;
        }

        @Override
        public SplitMix64 dropoutRng() {
            return new SplitMix64(0);
        }
    }

    private static int[] stream(int n) {
        int[] t = new int[n];
        SplitMix64 rng = new SplitMix64(n);
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(50);
        }
        return t;
    }

    /** The rule written directly: window by window, pairs (i, i+1) inside the window. */
    private static double expectedMean(int[] tokens, int seq) {
        double sum = 0;
        int count = 0;
        for (int start = 0; start < tokens.length; start += seq) {
            int end = Math.min(tokens.length, start + seq);
            for (int i = start; i + 1 < end; i++) {
                sum += pairLoss(tokens[i], tokens[i + 1]);
                count++;
            }
        }
        return sum / count;
    }

    @Test
    void fullWindowsAreBatchedAndTheShortLastWindowGoesAlone() {
        int[] tokens = stream(22); // T=4: five full windows and one of 2
        BigramLm lm = new BigramLm();
        lm.train();
        ScoreResult r = new Scorer(4, 2).score(lm, tokens, "t.txt");
        assertEquals(List.of("2x4", "2x4", "1x4", "1x2"), lm.shapes);
        assertEquals(5 * 3 + 1, r.tokensScored());
        assertEquals(expectedMean(tokens, 4), r.meanLoss(), 1e-12);
        assertEquals(Math.exp(r.meanLoss()), r.perplexity(), 1e-12);
        assertEquals(true, lm.evalCalled, "scoring must switch dropout off");
    }

    @Test
    void aOneTokenLastWindowContributesNothing() {
        int[] tokens = stream(21);
        BigramLm lm = new BigramLm();
        ScoreResult r = new Scorer(4, 8).score(lm, tokens, "t.txt");
        assertEquals(List.of("5x4"), lm.shapes);
        assertEquals(15, r.tokensScored());
        assertEquals(expectedMean(tokens, 4), r.meanLoss(), 1e-12);
    }

    @Test
    void groupingDoesNotChangeTheResult() {
        int[] tokens = stream(61);
        ScoreResult one = new Scorer(7, 1).score(new BigramLm(), tokens, "t");
        ScoreResult eight = new Scorer(7, 8).score(new BigramLm(), tokens, "t");
        assertEquals(one.tokensScored(), eight.tokensScored());
        assertEquals(one.meanLoss(), eight.meanLoss(), 1e-12);
        assertEquals(expectedMean(tokens, 7), eight.meanLoss(), 1e-12);
    }

    @Test
    void aStreamShorterThanTheWindowIsOneWindow() {
        int[] tokens = stream(5);
        BigramLm lm = new BigramLm();
        ScoreResult r = new Scorer(128).score(lm, tokens, "t");
        assertEquals(List.of("1x5"), lm.shapes);
        assertEquals(4, r.tokensScored());
        assertEquals(expectedMean(tokens, 5), r.meanLoss(), 1e-12);
    }

    @Test
    void windowBatchPredictsInsideEachWindow() {
        Batch b = Scorer.windowBatch(new int[] {9, 1, 2, 3, 4, 5, 6}, 1, 2, 3);
        assertEquals(List.of(1, 2, 3, 4, 5, 6), box(b.inputs()));
        assertEquals(List.of(2, 3, Batch.IGNORE, 5, 6, Batch.IGNORE), box(b.targets()));
    }

    private static List<Integer> box(int[] a) {
        List<Integer> l = new ArrayList<>();
        for (int v : a) {
            l.add(v);
        }
        return l;
    }

    @Test
    void refusesWhatCannotBeScored() {
        BigramLm lm = new BigramLm();
        Scorer s = new Scorer(8);
        assertEquals("Cannot score empty.txt: need at least 2 tokens, got 1", assertThrows(
                IllegalArgumentException.class, () -> s.score(lm, new int[] {3}, "empty.txt")).getMessage());
        assertEquals("Cannot score t: token id 50 at position 1 is outside the model's vocabulary of 50", assertThrows(
                IllegalArgumentException.class, () -> s.score(lm, new int[] {3, 50, 2}, "t")).getMessage());
        assertEquals("Cannot score t: window length 9 exceeds the model's 8 positions; pass a smaller --seq",
                assertThrows(IllegalArgumentException.class,
                        () -> new Scorer(9).score(lm, stream(20), "t")).getMessage());
        assertEquals("Invalid seq 1: must be >= 2, a window of T tokens predicts T-1 of them",
                assertThrows(IllegalArgumentException.class, () -> new Scorer(1)).getMessage());
        assertEquals("Invalid windowsPerBatch 0: must be >= 1",
                assertThrows(IllegalArgumentException.class, () -> new Scorer(4, 0)).getMessage());
    }

    @Test
    void jsonLineHasTheThreeFieldsInOrder() throws Exception {
        ScoreResult r = ScoreResult.ofSum(4, 2.0);
        String expected = "{\"tokens_scored\": 4, \"mean_loss\": 0.5, \"perplexity\": " + Math.exp(0.5) + "}";
        assertEquals(expected, r.toJson());
        JsonNode n = new ObjectMapper().readTree(r.toJson());
        assertEquals(4, n.get("tokens_scored").asLong());
        assertEquals(0.5, n.get("mean_loss").asDouble(), 0);
        assertEquals(Math.exp(0.5), n.get("perplexity").asDouble(), 0);
        assertEquals("Invalid tokensScored 0: must be > 0",
                assertThrows(IllegalArgumentException.class, () -> new ScoreResult(0, 1, 1)).getMessage());
        assertEquals("Invalid meanLoss NaN: must be finite",
                assertThrows(IllegalArgumentException.class, () -> new ScoreResult(3, Double.NaN, 1)).getMessage());
    }
}
