package io.sparklora.infer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.generate.Generator;
import io.sparklora.generate.Sampling;
import io.sparklora.model.BaseModel;
import io.sparklora.nn.CausalLms;
import io.sparklora.util.SplitMix64;
import io.sparklora.util.Spread;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench-generate}: greedy generation of {@code newTokens} tokens after a random prompt, by the key/value-cached
 * path {@code generate} uses ({@link Generation#runAlone} on a {@link KvDecoder}) and by the path it replaced
 * ({@link Generator}: the training forward over the whole prefix for every new token). The two alternate within each
 * run (the order swapped every run), since the machine may be shared; the speed-up is taken within each run. Both must
 * choose the same tokens: where they part, the cached path's logits of the two tokens are compared, and a gap within
 * {@link #TIE} counts as a tie (either argmax is right), any other difference as a disagreement.
 */
public final class GenerateBench {
    /** Logit gap under which two tokens tie (the serving tests' 1e-4 on log-probabilities). */
    public static final double TIE = 1e-4;
    /** Decode steps whose latencies give the KV path's per-token figure at the start and at the end. */
    private static final int WINDOW = 16;

    /**
     * What to run on one base.
     *
     * @param warmupTokens tokens generated once by each path before the timed runs (the JIT's warm-up)
     */
    public record Options(int newTokens, int promptTokens, int runs, int warmupTokens, long seed) {
        public Options {
            if (newTokens < 1 || promptTokens < 1 || runs < 1 || warmupTokens < 0) {
                throw new IllegalArgumentException("Invalid bench-generate options " + this + ": need new tokens, "
                        + "prompt tokens and runs >= 1, warm-up tokens >= 0");
            }
        }
    }

    /** One path's timing of one run: when each token was chosen, in ns after the start. */
    private record Timed(int[] tokens, long[] doneNs) {
        double tokensPerSecond() {
            return tokens.length / (doneNs[doneNs.length - 1] * 1e-9);
        }

        /** Median latency (ms) of tokens [from, to). */
        double medianStepMs(int from, int to) {
            double[] ms = new double[to - from];
            for (int i = from; i < to; i++) {
                ms[i - from] = (doneNs[i] - (i == 0 ? 0 : doneNs[i - 1])) * 1e-6;
            }
            return Spread.percentile(ms, 50);
        }
    }

    private GenerateBench() {
    }

    /**
     * Benchmarks both paths on {@code base} (no adapter); {@code name} labels the result. Fails before any run when
     * the prompt and the new tokens do not fit the base's max positions.
     */
    public static ObjectNode run(String name, BaseModel base, Options o) {
        int context = base.config().maxPositions();
        if (o.promptTokens() + o.newTokens() > context) {
            throw new IllegalArgumentException("Cannot bench generate on " + name + ": --prompt-tokens "
                    + o.promptTokens() + " + --new-tokens " + o.newTokens() + " exceed the model's max positions "
                    + context);
        }
        int[] prompt = randomPrompt(o.promptTokens(), base.config().vocabSize(), o.seed());
        KvDecoder decoder = KvDecoder.create(base, context, o.promptTokens());
        KvCache cache = decoder.newCache();
        Generator uncached = new Generator(CausalLms.of(base));
        if (o.warmupTokens() > 0) {
            int warm = Math.min(o.warmupTokens(), o.newTokens());
            kvPath(decoder, cache, prompt, warm);
            uncachedPath(uncached, prompt, warm);
        }
        List<Double> kvRate = new ArrayList<>();
        List<Double> oldRate = new ArrayList<>();
        List<Double> speedUp = new ArrayList<>();
        List<Double> kvStart = new ArrayList<>();
        List<Double> kvEnd = new ArrayList<>();
        List<Double> oldStart = new ArrayList<>();
        List<Double> oldEnd = new ArrayList<>();
        List<Double> firstTokenMs = new ArrayList<>();
        int agreeing = 0;
        int ties = 0;
        int disagreeing = 0;
        ArrayNode partings = JsonNodeFactory.instance.arrayNode();
        int window = Math.min(WINDOW, o.newTokens() - 1);
        for (int r = 0; r < o.runs(); r++) {
            Timed kv;
            Timed old;
            if (r % 2 == 0) {
                kv = kvPath(decoder, cache, prompt, o.newTokens());
                old = uncachedPath(uncached, prompt, o.newTokens());
            } else {
                old = uncachedPath(uncached, prompt, o.newTokens());
                kv = kvPath(decoder, cache, prompt, o.newTokens());
            }
            kvRate.add(kv.tokensPerSecond());
            oldRate.add(old.tokensPerSecond());
            speedUp.add(kv.tokensPerSecond() / old.tokensPerSecond());
            firstTokenMs.add(kv.doneNs()[0] * 1e-6);
            if (window > 0) {
                kvStart.add(kv.medianStepMs(1, 1 + window));
                kvEnd.add(kv.medianStepMs(o.newTokens() - window, o.newTokens()));
                oldStart.add(old.medianStepMs(1, 1 + window));
                oldEnd.add(old.medianStepMs(o.newTokens() - window, o.newTokens()));
            }
            int at = firstDifference(kv.tokens(), old.tokens());
            if (at < 0) {
                agreeing++;
                continue;
            }
            double gap = logitGap(decoder, cache, prompt, kv.tokens(), at, old.tokens()[at]);
            boolean tie = Math.abs(gap) <= TIE;
            if (tie) {
                ties++;
            } else {
                disagreeing++;
            }
            partings.addObject().put("run", r).put("position", at).put("kv_token", kv.tokens()[at])
                    .put("uncached_token", old.tokens()[at]).put("logit_gap", gap).put("tie", tie);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("base", name).put("model_type", base.config().modelType())
                .put("max_positions", context).put("prompt_tokens", o.promptTokens())
                .put("new_tokens", o.newTokens()).put("runs", o.runs()).put("warmup_tokens", o.warmupTokens());
        out.set("kv_tokens_per_s", Spread.of(kvRate));
        out.set("uncached_tokens_per_s", Spread.of(oldRate));
        out.set("speed_up", Spread.of(speedUp));
        out.set("kv_first_token_ms", Spread.of(firstTokenMs));
        if (window > 0) {
            out.put("latency_window_tokens", window);
            out.set("kv_token_ms_start", Spread.of(kvStart));
            out.set("kv_token_ms_end", Spread.of(kvEnd));
            out.set("uncached_token_ms_start", Spread.of(oldStart));
            out.set("uncached_token_ms_end", Spread.of(oldEnd));
        }
        out.put("runs_equal", agreeing).put("runs_parted_at_a_tie", ties).put("runs_disagreeing", disagreeing);
        out.set("partings", partings);
        return out;
    }

    /** Whether every base's runs chose the same tokens on both paths (ties allowed). */
    public static boolean agrees(ObjectNode result) {
        return result.get("runs_disagreeing").asInt() == 0;
    }

    /** {@code generate}'s loop: the prompt as one prefill segment, then one cached step per token. */
    private static Timed kvPath(KvDecoder decoder, KvCache cache, int[] prompt, int newTokens) {
        Generation g = new Generation(cache, null, prompt, Sampling.greedy(newTokens), new int[0],
                Segment.Logits.LAST);
        long[] done = new long[newTokens];
        int[] n = {0};
        long start = System.nanoTime();
        g.runAlone(decoder, id -> {
            done[n[0]++] = System.nanoTime() - start;
            return true;
        });
        return new Timed(g.tokens(), Arrays.copyOf(done, n[0]));
    }

    /** The path {@code generate} had before the cache: a forward over the whole prefix per token. */
    private static Timed uncachedPath(Generator generator, int[] prompt, int newTokens) {
        long[] done = new long[newTokens];
        int[] n = {0};
        long start = System.nanoTime();
        Generator.Result result = generator.generate(prompt, Sampling.greedy(newTokens),
                id -> done[n[0]++] = System.nanoTime() - start);
        return new Timed(result.tokens(), Arrays.copyOf(done, n[0]));
    }

    /** The first index where the two differ (also a length difference), or -1. */
    static int firstDifference(int[] a, int[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] != b[i]) {
                return i;
            }
        }
        return a.length == b.length ? -1 : Math.min(a.length, b.length);
    }

    /**
     * The cached path's logit of its own token at {@code at} minus that of {@code other} (the uncached path's choice),
     * both after the prompt and the first {@code at} shared tokens.
     */
    private static double logitGap(KvDecoder decoder, KvCache cache, int[] prompt, int[] tokens, int at, int other) {
        if (at >= tokens.length || other < 0) {
            return Double.POSITIVE_INFINITY; // one path stopped early: not a tie
        }
        int[] prefix = Arrays.copyOf(prompt, prompt.length + at);
        System.arraycopy(tokens, 0, prefix, prompt.length, at);
        cache.reset();
        float[] logits = new float[decoder.config().vocabSize()];
        int done = 0;
        while (done < prefix.length) {
            int step = Math.min(decoder.maxRows(), prefix.length - done);
            Segment seg = new Segment(cache, Arrays.copyOfRange(prefix, done, done + step), null,
                    Segment.Logits.LAST);
            decoder.forward(List.of(seg));
            decoder.copyLogits(decoder.logitRow(0), logits);
            done += step;
        }
        return logits[tokens[at]] - logits[other];
    }

    /** {@code length} token ids drawn uniformly from the vocabulary, from {@code seed}. */
    static int[] randomPrompt(int length, int vocab, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        return ids;
    }
}
