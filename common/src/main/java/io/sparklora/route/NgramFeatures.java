package io.sparklora.route;

import java.util.HashMap;
import java.util.Map;

/**
 * The features of {@link NgramRouter}: every run of 1 to {@code order} consecutive token ids, hashed into one of
 * {@code buckets} buckets (the "hashing trick", Weinberger et al. 2009), counted. Hashing keeps the model's size bounded
 * whatever the vocabulary; a collision merges two n-grams, which costs a little accuracy, never correctness.
 *
 * <p>The hash is FNV-1a over the n-gram's length and ids, finished with MurmurHash3's 64-bit mix: fixed here because
 * {@code router.json} stores bucket numbers, so a reader must hash exactly as the writer did.
 */
public final class NgramFeatures {
    /** Name of this hash in {@code router.json}; a file naming another is refused. */
    public static final String HASH = "fnv1a64-fmix64";

    private NgramFeatures() {
    }

    /** Bucket → occurrences of the n-grams of {@code ids[from, to)} (n = 1..order) that hash there. */
    public static Map<Integer, Integer> count(int[] ids, int from, int to, int order, int buckets) {
        Map<Integer, Integer> out = new HashMap<>();
        for (int start = from; start < to; start++) {
            long h = 0xcbf29ce484222325L;
            for (int n = 1; n <= order && start + n <= to; n++) {
                int id = ids[start + n - 1];
                for (int shift = 0; shift < 32; shift += 8) {
                    h = (h ^ ((id >>> shift) & 0xff)) * 0x100000001b3L;
                }
                out.merge(bucket(h ^ n, buckets), 1, Integer::sum);
            }
        }
        return out;
    }

    private static int bucket(long h, int buckets) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) Math.floorMod(h, (long) buckets);
    }
}
