package io.sparklora.driver;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Which adapters {@code eval} scores on which data partition. Up to {@value #ALL_UP_TO} adapters, every one on every
 * partition (the full cross-evaluation matrix). Past that, all × all grows as the square (10⁸ cells at 10,000
 * adapters), so by default each partition is scored by its own adapter (the one trained on the same key) and by
 * {@code sample} other adapters drawn at random per partition (seeded: the same run gives the same pairs), which
 * still shows whether adapters specialise, at a cost linear in the partitions. The base is scored everywhere.
 */
final class EvalPairs implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Past this many adapters {@code --pairs auto} means {@code sampled}. */
    static final int ALL_UP_TO = 256;
    /** Other adapters per partition under {@code sampled} unless {@code --sample} says otherwise. */
    static final int DEFAULT_SAMPLE = 8;

    /** How pairs are chosen. */
    enum Mode {
        ALL, SAMPLED;

        /** {@code all}, {@code sampled}, or {@code auto} (all up to {@value #ALL_UP_TO} adapters). */
        static Mode parse(String s, int adapters) {
            return switch (s) {
                case "all" -> ALL;
                case "sampled" -> SAMPLED;
                case "auto" -> adapters > ALL_UP_TO ? SAMPLED : ALL;
                default -> throw new IllegalArgumentException("Invalid --pairs " + s
                        + ": expected all, sampled or auto");
            };
        }
    }

    private final Mode mode;
    private final int adapters;
    private final int[] own; // partition → index of the adapter trained on its key, or -1
    private final int sample;
    private final long seed;

    /**
     * @param adapterKeys the key each adapter was trained on, by adapter index
     * @param partitions  the data partitions, by index
     */
    EvalPairs(Mode mode, List<String> adapterKeys, List<AdapterPlan> partitions, int sample, long seed) {
        if (sample < 0) {
            throw new IllegalArgumentException("Invalid --sample " + sample + ": must be >= 0");
        }
        this.mode = mode;
        this.adapters = adapterKeys.size();
        Map<String, Integer> byKey = new java.util.HashMap<>();
        for (int a = 0; a < adapterKeys.size(); a++) {
            byKey.putIfAbsent(String.valueOf(adapterKeys.get(a)), a);
        }
        this.own = partitions.stream().mapToInt(p -> byKey.getOrDefault(String.valueOf(p.key()), -1)).toArray();
        this.sample = sample;
        this.seed = seed;
    }

    Mode mode() {
        return mode;
    }

    /** The adapter trained on this partition's key, or -1. */
    int own(int partition) {
        return own[partition];
    }

    /** The adapters scored on {@code partition}, in ascending order (all of them under {@link Mode#ALL}). */
    int[] adaptersFor(int partition) {
        if (mode == Mode.ALL) {
            return java.util.stream.IntStream.range(0, adapters).toArray();
        }
        int mine = own[partition];
        int others = Math.min(sample, adapters - (mine >= 0 ? 1 : 0));
        java.util.Set<Integer> chosen = new java.util.TreeSet<>();
        if (mine >= 0) {
            chosen.add(mine);
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + partition);
        while (chosen.size() < others + (mine >= 0 ? 1 : 0)) {
            chosen.add(random.nextInt(adapters));
        }
        return chosen.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return mode == Mode.ALL ? "all " + adapters + " adapter(s) on every partition"
                : "each partition's own adapter and " + sample + " sampled other(s) of " + adapters + " (seed " + seed
                        + ")" + (Arrays.stream(own).allMatch(o -> o < 0) ? "; no partition has its own adapter" : "");
    }
}
