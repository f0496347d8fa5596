package io.sparklora.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.generate.Generator;
import io.sparklora.generate.Sampling;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraMerge;
import io.sparklora.lora.TinyModels;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.RopeScaling;
import io.sparklora.nn.CausalLms;
import io.sparklora.util.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cached decoder against the training forward ({@link CausalLms}, itself checked against the HF reference):
 * prefill, token-by-token decoding, and a mixed-adapter batch all give the training forward's logits; greedy
 * generation gives the uncached {@link Generator}'s tokens.
 */
class KvDecoderTest {
    private static final double TOL = 1e-4;

    static Stream<ModelConfig> families() {
        return Stream.of(TinyModels.llama(), TinyModels.gpt2(),
                TinyModels.llama().withFamily(LlamaFamily.QWEN3).withRopeScaling(RopeScaling.llama3(4, 1, 4, 16)),
                TinyModels.llama().withFamily(LlamaFamily.QWEN2));
    }

    static LoraAdapter adapter(ModelConfig config, long seed) {
        LoraConfig lc = LoraConfig.defaults().withTargetModules(List.of("all-linear")).withRank(4).withAlpha(8)
                .withSeed(seed);
        LoraAdapter a = LoraAdapter.initialize(lc, config);
        TinyModels.randomizeB(a, seed + 1);
        return a;
    }

    static int[] tokens(int n, long seed, int vocab) {
        SplitMix64 rng = new SplitMix64(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (int) (rng.nextDouble() * vocab);
        }
        return t;
    }

    /** The training forward's (n, vocab) logits of tokens under base (+ adapter). */
    static float[] trainingLogits(BaseModel base, LoraAdapter adapter, int[] tokens) {
        CausalLm lm = adapter == null ? CausalLms.of(base) : CausalLms.withAdapter(base, adapter);
        lm.eval();
        lm.forward(Batch.nextTokenPrediction(tokens));
        return lm.logits().toArray();
    }

    static void assertRowsClose(float[] expected, int expectedRow, float[] actual, int vocab, String what) {
        for (int v = 0; v < vocab; v++) {
            float e = expected[expectedRow * vocab + v];
            assertEquals(e, actual[v], TOL * Math.max(1, Math.abs(e)), what + ", vocab " + v);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void prefillThenTokenByTokenEqualsTheTrainingForward(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 3);
        LoraAdapter lora = adapter(config, 7);
        InferenceAdapter adapter = new InferenceAdapter("a", lora, config);
        int vocab = config.vocabSize();
        int[] seq = tokens(40, 5, vocab);
        float[] expected = trainingLogits(base, lora, seq);

        KvDecoder decoder = KvDecoder.create(base, config.maxPositions(), 64);
        KvCache cache = decoder.newCache();
        int prefill = 25;
        int[] head = java.util.Arrays.copyOf(seq, prefill);
        decoder.forward(List.of(new Segment(cache, head, adapter, Segment.Logits.ALL)));
        float[] row = new float[vocab];
        for (int t = 0; t < prefill; t++) {
            decoder.copyLogits(decoder.logitRow(0) + t, row);
            assertRowsClose(expected, t, row, vocab, config.modelType() + " prefill position " + t);
        }
        for (int t = prefill; t < seq.length; t++) {
            decoder.forward(List.of(new Segment(cache, new int[] {seq[t]}, adapter, Segment.Logits.LAST)));
            decoder.copyLogits(decoder.logitRow(0), row);
            assertRowsClose(expected, t, row, vocab, config.modelType() + " decoded position " + t);
        }
        assertEquals(seq.length, cache.length());
    }

    @ParameterizedTest
    @MethodSource("families")
    void aBatchOfSequencesWithDifferentAdaptersEqualsEachAlone(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 4);
        int vocab = config.vocabSize();
        List<LoraAdapter> loras = List.of(adapter(config, 11), adapter(config, 21), adapter(config, 31));
        List<InferenceAdapter> adapters = new ArrayList<>();
        for (int i = 0; i < loras.size(); i++) {
            adapters.add(new InferenceAdapter("a" + i, loras.get(i), config));
        }
        // five sequences: adapters 0, base, 1, 0, 2 (interleaved, so the decoder must regroup them), different lengths
        int[] which = {0, -1, 1, 0, 2};
        KvDecoder decoder = KvDecoder.create(base, config.maxPositions(), 128);
        int[][] seqs = new int[which.length][];
        KvCache[] caches = new KvCache[which.length];
        List<Segment> prefill = new ArrayList<>();
        for (int s = 0; s < which.length; s++) {
            seqs[s] = tokens(6 + 3 * s, 100 + s, vocab);
            caches[s] = decoder.newCache();
            prefill.add(new Segment(caches[s], java.util.Arrays.copyOf(seqs[s], seqs[s].length - 2),
                    which[s] < 0 ? null : adapters.get(which[s]), Segment.Logits.ALL));
        }
        decoder.forward(prefill);
        float[] row = new float[vocab];
        float[][] expected = new float[which.length][];
        for (int s = 0; s < which.length; s++) {
            expected[s] = trainingLogits(base, which[s] < 0 ? null : loras.get(which[s]), seqs[s]);
            for (int t = 0; t < seqs[s].length - 2; t++) {
                decoder.copyLogits(decoder.logitRow(s) + t, row);
                assertRowsClose(expected[s], t, row, vocab, "sequence " + s + " position " + t);
            }
        }
        for (int step = 2; step >= 1; step--) {
            List<Segment> decode = new ArrayList<>();
            for (int s = 0; s < which.length; s++) {
                decode.add(new Segment(caches[s], new int[] {seqs[s][seqs[s].length - step]},
                        which[s] < 0 ? null : adapters.get(which[s]), Segment.Logits.LAST));
            }
            decoder.forward(decode);
            for (int s = 0; s < which.length; s++) {
                decoder.copyLogits(decoder.logitRow(s), row);
                assertRowsClose(expected[s], seqs[s].length - step, row, vocab, "sequence " + s + " decode");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void greedyGenerationEqualsTheUncachedGenerator(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 8);
        LoraAdapter lora = adapter(config, 9);
        int[] prompt = tokens(5, 77, config.vocabSize());
        int max = config.maxPositions() - prompt.length + 3; // runs into the context limit
        Generator.Result old = new Generator(CausalLms.withAdapter(base, lora)).generate(prompt,
                Sampling.greedy(max));
        KvDecoder decoder = KvDecoder.create(base, config.maxPositions(), 64);
        Generation g = new Generation(decoder.newCache(), new InferenceAdapter("a", lora, config), prompt,
                Sampling.greedy(max), new int[0], Segment.Logits.LAST);
        g.runAlone(decoder, t -> true);
        assertArrayEquals(old.tokens(), g.tokens());
        assertEquals(Generator.Stop.MAX_POSITIONS, old.stop());
        assertEquals(Generation.Finish.CONTEXT, g.finish());

        Sampling sampled = new Sampling(10, 0.8, 0.9, 42);
        int[] a = new Generator(CausalLms.withAdapter(base, lora)).generate(prompt, sampled).tokens();
        Generation s = new Generation(decoder.newCache(), new InferenceAdapter("a", lora, config), prompt, sampled,
                new int[0], Segment.Logits.LAST);
        s.runAlone(decoder, t -> true);
        assertArrayEquals(a, s.tokens());
    }

    @ParameterizedTest
    @MethodSource("families")
    void eosEndsGenerationAndBadSegmentsAreRefused(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 8);
        KvDecoder decoder = KvDecoder.create(base, 16, 8);
        int[] prompt = tokens(4, 1, config.vocabSize());
        Generation first = new Generation(decoder.newCache(), null, prompt, Sampling.greedy(5), new int[0],
                Segment.Logits.LAST);
        first.runAlone(decoder, t -> true);
        int eos = first.tokens()[2];
        Generation g = new Generation(decoder.newCache(), null, prompt, Sampling.greedy(5), new int[] {eos},
                Segment.Logits.LAST);
        g.runAlone(decoder, t -> true);
        assertEquals(Generation.Finish.EOS, g.finish());
        assertTrue(g.tokens().length <= 2);

        KvCache cache = decoder.newCache();
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> decoder.forward(List.of(new Segment(cache, new int[9], null, Segment.Logits.LAST))));
        assertEquals("Cannot decode: 9 rows exceed the decoder's 8", tooMany.getMessage());
        IllegalArgumentException badToken = assertThrows(IllegalArgumentException.class,
                () -> decoder.forward(List.of(new Segment(cache, new int[] {-1}, null, Segment.Logits.LAST))));
        assertEquals("Cannot decode token -1: outside the vocabulary of " + config.vocabSize(),
                badToken.getMessage());
        assertEquals(0, cache.length());
    }

    /**
     * LoRA §4.1's "no additional inference latency": a decoder over the base with the adapter merged in (W + s·B·A,
     * {@link LoraMerge}) runs segments without an adapter, so it does the base's work and no LoRA update at all
     * (its {@link KvDecoder#loraRows()} stays 0), and its logits equal the unmerged adapter's, prefill and decode.
     */
    @ParameterizedTest
    @MethodSource("families")
    void aMergedBaseRunsNoLoraWorkAndGivesTheUnmergedLogits(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 12);
        LoraAdapter lora = adapter(config, 13);
        BaseModel merged = base.copy();
        LoraMerge.merge(merged, lora);
        int vocab = config.vocabSize();
        int[] seq = tokens(20, 14, vocab);
        KvDecoder unmergedDecoder = KvDecoder.create(base, config.maxPositions(), 32);
        KvDecoder mergedDecoder = KvDecoder.create(merged, config.maxPositions(), 32);
        InferenceAdapter adapter = new InferenceAdapter("a", lora, config);
        KvCache u = unmergedDecoder.newCache();
        KvCache m = mergedDecoder.newCache();
        int prefill = 12;
        int[] head = java.util.Arrays.copyOf(seq, prefill);
        unmergedDecoder.forward(List.of(new Segment(u, head, adapter, Segment.Logits.ALL)));
        mergedDecoder.forward(List.of(new Segment(m, head, null, Segment.Logits.ALL)));
        float[] expected = new float[prefill * vocab];
        float[] row = new float[vocab];
        for (int t = 0; t < prefill; t++) {
            unmergedDecoder.copyLogits(unmergedDecoder.logitRow(0) + t, row);
            System.arraycopy(row, 0, expected, t * vocab, vocab);
            mergedDecoder.copyLogits(mergedDecoder.logitRow(0) + t, row);
            assertRowsClose(expected, t, row, vocab, config.modelType() + " merged prefill position " + t);
        }
        for (int t = prefill; t < seq.length; t++) {
            unmergedDecoder.forward(List.of(new Segment(u, new int[] {seq[t]}, adapter, Segment.Logits.LAST)));
            mergedDecoder.forward(List.of(new Segment(m, new int[] {seq[t]}, null, Segment.Logits.LAST)));
            float[] want = new float[vocab];
            unmergedDecoder.copyLogits(unmergedDecoder.logitRow(0), want);
            mergedDecoder.copyLogits(mergedDecoder.logitRow(0), row);
            assertRowsClose(want, 0, row, vocab, config.modelType() + " merged decoded position " + t);
        }
        float[] plain = trainingLogits(base, null, seq); // the adapter must matter, or the comparison proves nothing
        double moved = 0;
        for (int v = 0; v < vocab; v++) {
            moved = Math.max(moved, Math.abs(plain[(seq.length - 1) * vocab + v] - row[v]));
        }
        assertTrue(moved > 1e-2, "the adapter moves the last logits by only " + moved);
        assertEquals(0, mergedDecoder.loraRows(), "the merged decoder ran a LoRA update");
        // all-linear: every linear layer of every block adapted, over 12 prefill rows then one row per decoded token
        long adapted = lora.modules().size();
        assertEquals(adapted * seq.length, unmergedDecoder.loraRows());
    }
}
