package io.sparklora.infer;

import io.sparklora.generate.Generator;
import io.sparklora.generate.Sampling;
import io.sparklora.util.SplitMix64;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * One sequence being generated over a {@link KvCache}: the prompt goes in as one segment (prefill), then each chosen
 * token as a one-row segment, until {@code maxNewTokens}, an end-of-sequence token, the cache's context, or a caller's
 * {@link #stop()} (a stop string). Token choice is {@link Generator}'s: greedy, or temperature and top-p from a stream
 * seeded with the sampling seed, so the same request gives the same tokens whether it runs alone or batched.
 *
 * <p>Lifecycle: {@link #nextSegment()} and {@link #accept(float[])} alternate, driven by one thread (a decode loop).
 */
public final class Generation {
    /** Why generation ended (OpenAI's {@code finish_reason}: {@code length} or {@code stop}). */
    public enum Finish {
        /** maxNewTokens reached. */
        LENGTH,
        /** The cache's context is full. */
        CONTEXT,
        /** An end-of-sequence token was chosen (it is not part of the output). */
        EOS,
        /** The caller stopped it (a stop string). */
        STOP
    }

    private final KvCache cache;
    private final InferenceAdapter adapter; // null: the base
    private final int[] prompt;
    private final Sampling sampling;
    private final int[] eosIds;
    private final Segment.Logits promptLogits;
    private final SplitMix64 rng;
    private final int[] generated; // (maxNewTokens)
    private int count;
    private boolean prefilled;
    private Finish finish;

    /**
     * @param eosIds       token ids that end generation (empty: none)
     * @param promptLogits ALL to get every prompt position's logits from the prefill (prompt log-probabilities)
     */
    public Generation(KvCache cache, InferenceAdapter adapter, int[] prompt, Sampling sampling, int[] eosIds,
                      Segment.Logits promptLogits) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("Cannot generate: the prompt has no tokens");
        }
        if (prompt.length > cache.capacity()) {
            throw new IllegalArgumentException("Cannot generate: the prompt has " + prompt.length
                    + " tokens, the context is " + cache.capacity());
        }
        cache.reset();
        this.cache = cache;
        this.adapter = adapter;
        this.prompt = prompt.clone();
        this.sampling = sampling;
        this.eosIds = eosIds.clone();
        this.promptLogits = promptLogits;
        this.rng = new SplitMix64(sampling.seed());
        this.generated = new int[sampling.maxNewTokens()];
        if (sampling.maxNewTokens() == 0) {
            finish = Finish.LENGTH; // still prefilled once when prompt logits are wanted
        }
    }

    /** Whether a step is still needed: not finished, or the prefill (for prompt logits) has not run. */
    public boolean needsStep() {
        return finish == null || (!prefilled && promptLogits == Segment.Logits.ALL);
    }

    /** The segment of the next step: the whole prompt first, then the last chosen token. */
    public Segment nextSegment() {
        if (!prefilled) {
            return new Segment(cache, prompt, adapter, promptLogits);
        }
        return new Segment(cache, new int[] {generated[count - 1]}, adapter, Segment.Logits.LAST);
    }

    /**
     * Takes the logits of the last position after a step and chooses the next token; returns it, or -1 when
     * generation ended here (maxNewTokens 0 after the prefill, an EOS token, or the context).
     */
    public int accept(float[] logits) {
        prefilled = true;
        if (finish != null) {
            return -1;
        }
        if (cache.length() >= cache.capacity()) {
            finish = Finish.CONTEXT; // a token chosen now would sit past the context
            return -1;
        }
        int next = sampling.isGreedy() ? Generator.argmax(logits)
                : Generator.sample(logits, sampling.temperature(), sampling.topP(), rng);
        for (int e : eosIds) {
            if (next == e) {
                finish = Finish.EOS;
                return -1;
            }
        }
        generated[count++] = next;
        if (count == generated.length) {
            finish = Finish.LENGTH;
        } else if (cache.length() + 1 >= cache.capacity()) {
            finish = Finish.CONTEXT; // the sequence fills the context: no further token has a position
        }
        return next;
    }

    /** Ends generation now (a stop string was found); the tokens so far stay. */
    public void stop() {
        if (finish == null) {
            finish = Finish.STOP;
        }
    }

    public boolean finished() {
        return finish != null;
    }

    /** Why it ended, or null while running. */
    public Finish finish() {
        return finish;
    }

    public int[] prompt() {
        return prompt.clone();
    }

    /** The chosen tokens so far (without the prompt). */
    public int[] tokens() {
        return Arrays.copyOf(generated, count);
    }

    public InferenceAdapter adapter() {
        return adapter;
    }

    public KvCache cache() {
        return cache;
    }

    /**
     * Runs this generation alone on {@code decoder} until it finishes, handing each chosen token to {@code onToken},
     * which returns false to stop (a stop string). The {@code generate} command's loop.
     */
    public void runAlone(KvDecoder decoder, IntPredicate onToken) {
        float[] logits = new float[decoder.config().vocabSize()];
        while (needsStep()) {
            Segment seg = nextSegment();
            decoder.forward(List.of(seg));
            decoder.copyLogits(decoder.logitRow(0) + seg.logitRows() - 1, logits);
            int next = accept(logits);
            if (next >= 0 && !onToken.test(next)) {
                stop();
            }
        }
    }
}
