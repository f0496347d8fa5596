package io.sparklora.generate;

import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Autoregressive text generation with a {@link CausalLm} (the base, base + adapter, or a merged model): greedy, or
 * temperature and nucleus (top-p) sampling from a seeded stream. Each step runs the whole prefix through the model
 * and reads the last position's logits — no key/value cache, so a step costs a forward over the prefix; the prefix
 * never exceeds the model's max positions, and generation stops there.
 *
 * <p>Lifecycle: one generator per model and thread (the model owns its activation buffers).
 */
public final class Generator {
    /** Why generation stopped. */
    public enum Stop {
        /** {@code maxNewTokens} tokens were generated. */
        MAX_NEW_TOKENS,
        /** The prefix reached the model's max positions. */
        MAX_POSITIONS
    }

    /**
     * @param tokens (n) the generated tokens, without the prompt
     * @param stop   why it stopped
     */
    public record Result(int[] tokens, Stop stop) {
    }

    private final CausalLm lm;

    public Generator(CausalLm lm) {
        this.lm = lm;
    }

    /** Generates after {@code prompt}; see the class comment. */
    public Result generate(int[] prompt, Sampling sampling) {
        return generate(prompt, sampling, id -> { });
    }

    /** As {@link #generate(int[], Sampling)}, handing each token to {@code onToken} as soon as it is chosen. */
    public Result generate(int[] prompt, Sampling sampling, IntConsumer onToken) {
        int maxPositions = lm.config().maxPositions();
        int vocab = lm.config().vocabSize();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("Cannot generate: the prompt has no tokens");
        }
        if (prompt.length > maxPositions) {
            throw new IllegalArgumentException("Cannot generate: the prompt has " + prompt.length
                    + " tokens, the model's max positions is " + maxPositions);
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("Cannot generate: prompt token " + prompt[i] + " at position " + i
                        + " is outside the model's vocabulary of " + vocab);
            }
        }
        lm.eval();
        SplitMix64 rng = new SplitMix64(sampling.seed());
        int[] seq = Arrays.copyOf(prompt, Math.min(maxPositions, prompt.length + sampling.maxNewTokens()));
        int n = prompt.length;
        float[] logits = new float[vocab];
        while (n - prompt.length < sampling.maxNewTokens()) {
            if (n == maxPositions) {
                return new Result(Arrays.copyOfRange(seq, prompt.length, n), Stop.MAX_POSITIONS);
            }
            lastLogits(Arrays.copyOf(seq, n), logits);
            int next = sampling.isGreedy() ? argmax(logits) : sample(logits, sampling.temperature(), sampling.topP(), rng);
            seq[n++] = next;
            onToken.accept(next);
        }
        return new Result(Arrays.copyOfRange(seq, prompt.length, n), Stop.MAX_NEW_TOKENS);
    }

    /** Runs {@code prefix} through the model and copies the logits of its last position into {@code out}. */
    private void lastLogits(int[] prefix, float[] out) {
        int[] targets = new int[prefix.length];
        Arrays.fill(targets, Batch.IGNORE);
        lm.forward(new Batch(1, prefix.length, prefix, targets));
        Tensor logits = lm.logits(); // (prefix.length, vocab)
        int base = (prefix.length - 1) * out.length;
        for (int v = 0; v < out.length; v++) {
            out[v] = logits.get(base + v);
        }
    }

    /** The index of the largest logit (the first one on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int v = 1; v < logits.length; v++) {
            if (logits[v] > logits[best]) {
                best = v;
            }
        }
        return best;
    }

    /**
     * Draws from softmax(logits / temperature) restricted to the nucleus: tokens in order of decreasing probability
     * (lower id first on ties) until their total reaches {@code topP}; at least the most likely token is kept.
     */
    public static int sample(float[] logits, double temperature, double topP, SplitMix64 rng) {
        int vocab = logits.length;
        float max = logits[argmax(logits)];
        double[] p = new double[vocab]; // (vocab) unnormalised probabilities
        double z = 0;
        for (int v = 0; v < vocab; v++) {
            p[v] = Math.exp((logits[v] - max) / temperature);
            z += p[v];
        }
        Integer[] order = new Integer[vocab];
        for (int v = 0; v < vocab; v++) {
            order[v] = v;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int kept = 0;
        double mass = 0;
        while (kept < vocab && (kept == 0 || mass < topP * z)) {
            mass += p[order[kept++]];
        }
        double u = rng.nextDouble() * mass;
        double acc = 0;
        for (int i = 0; i < kept; i++) {
            acc += p[order[i]];
            if (u < acc) {
                return order[i];
            }
        }
        return order[kept - 1]; // u within rounding of the total
    }
}
