package io.sparklora.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link NgramRouter} against naive Bayes written out by hand, its file round trip and checks, and on two synthetic
 * "languages" (different letter statistics) classified on text it was not fitted on.
 */
class NgramRouterTest {
    private static final double ALPHA = 0.5;
    private static final int BUCKETS = 1 << 20;

    @Test
    void unigramPosteriorsAreTheHandWrittenNaiveBayes() {
        assertEquals(3, NgramFeatures.count(new int[] {1, 2, 3}, 0, 3, 1, BUCKETS).size(), "1, 2, 3 do not collide");
        NgramCounts a = new NgramCounts("a", 1, BUCKETS);
        a.add(new int[] {1, 1, 2}, 0, 3);
        NgramCounts b = new NgramCounts("b", 1, BUCKETS);
        b.add(new int[] {3, 3}, 0, 2);
        b.add(new int[] {3, 2}, 0, 2);
        NgramRouter r = new NgramRouter(List.of(a, b), ALPHA);
        // examples 1 and 2 of 3, add-one: P(a) = 2/5, P(b) = 3/5. N_a = 3, N_b = 4 occurrences.
        double da = 3 + ALPHA * BUCKETS;
        double db = 4 + ALPHA * BUCKETS;
        double[] expected = {
            Math.log(2.0 / 5) + 2 * Math.log((2 + ALPHA) / da) + Math.log((1 + ALPHA) / da) + Math.log(ALPHA / da),
            Math.log(3.0 / 5) + 2 * Math.log(ALPHA / db) + Math.log((1 + ALPHA) / db) + Math.log((3 + ALPHA) / db)};
        int[] prompt = {1, 2, 1, 3};
        double[] got = r.logPosteriors(prompt, 0, prompt.length);
        assertArrayEquals(expected, got, 1e-9);
        assertEquals("a", r.route(new int[] {1, 1}));
        assertEquals("b", r.route(new int[] {3}));
        assertEquals("b", r.route(new int[0]), "no evidence: the larger prior");
    }

    @Test
    void theFileReadsBackToTheSameRouterAndBadFilesAreRefused() throws IOException {
        NgramRouter r = new NgramRouter(List.of(fit("en", ENGLISHISH, 1), fit("xx", OTHER, 2)), ALPHA);
        NgramRouter back = NgramRouter.read(r.toJson(null), "router.json");
        int[] probe = ids(text(ENGLISHISH, 99, 80));
        assertArrayEquals(r.logPosteriors(probe, 0, probe.length), back.logPosteriors(probe, 0, probe.length), 0);
        assertEquals(r.names(), back.names());

        IOException version = assertThrows(IOException.class, () -> NgramRouter.read(
                "{\"format_version\": 2, \"kind\": \"ngram-naive-bayes\", \"hash\": \"fnv1a64-fmix64\"}"
                        .getBytes(StandardCharsets.UTF_8), "r.json"));
        assertEquals("Cannot read router r.json: expected format_version 1, kind ngram-naive-bayes and hash "
                + "fnv1a64-fmix64, got 2, \"ngram-naive-bayes\" and \"fnv1a64-fmix64\"", version.getMessage());
        IOException range = assertThrows(IOException.class, () -> NgramRouter.read(("{\"format_version\": 1, "
                + "\"kind\": \"ngram-naive-bayes\", \"hash\": \"fnv1a64-fmix64\", \"order\": 2, \"buckets\": 8, "
                + "\"alpha\": 0.5, \"classes\": [{\"name\": \"de\", \"examples\": 1, \"buckets\": [3, 8], "
                + "\"counts\": [1, 2]}]}").getBytes(StandardCharsets.UTF_8), "r.json"));
        assertEquals("Cannot read router r.json: class de has bucket 8 (count 2) outside [0, 8)", range.getMessage());
        assertThrows(IOException.class, () -> NgramRouter.read("{".getBytes(StandardCharsets.UTF_8), "r.json"));
    }

    @Test
    void separatesTwoLanguagesOnTextItWasNotFittedOn() {
        NgramRouter r = new NgramRouter(List.of(fit("en", ENGLISHISH, 1), fit("xx", OTHER, 2)),
                NgramRouter.DEFAULT_ALPHA);
        int correct = 0;
        for (int i = 0; i < 100; i++) { // fresh text, other seeds than the fit's
            correct += r.route(ids(text(ENGLISHISH, 1000 + i, 40))).equals("en") ? 1 : 0;
            correct += r.route(ids(text(OTHER, 2000 + i, 40))).equals("xx") ? 1 : 0;
        }
        assertTrue(correct >= 195, correct + " of 200 routed to their language");
    }

    // Two alphabets that share letters, with different frequencies: unigrams alone separate them only partly.
    private static final String ENGLISHISH = "eeeettaaoinshrdlu  ";
    private static final String OTHER = "eeaaoouuiizzkkwwjj  ";

    private static NgramCounts fit(String name, String alphabet, int seed) {
        NgramCounts c = new NgramCounts(name, NgramRouter.DEFAULT_ORDER, NgramRouter.DEFAULT_BUCKETS);
        for (int i = 0; i < 50; i++) {
            int[] ids = ids(text(alphabet, seed * 100 + i, 128));
            c.add(ids, 0, ids.length);
        }
        return c;
    }

    private static String text(String alphabet, long seed, int length) {
        Random rng = new Random(seed);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(alphabet.charAt(rng.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    private static int[] ids(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }
}
