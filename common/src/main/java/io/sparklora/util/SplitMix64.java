package io.sparklora.util;

/**
 * SplitMix64 (Steele, Lea, Flood 2014), the generator behind {@link java.util.SplittableRandom}, written out so that its
 * whole state is one {@code long} that a checkpoint can save and restore: an exact resume needs the dropout and
 * data-order streams to continue where they stopped.
 */
public final class SplitMix64 {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** The generator's whole state, for checkpoints. */
    public long state() {
        return state;
    }

    public void setState(long state) {
        this.state = state;
    }

    public long nextLong() {
        long z = (state += GOLDEN_GAMMA);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), bound > 0, without modulo bias (the rejection loop of SplittableRandom). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("Invalid bound " + bound + ": must be positive");
        }
        int r = (int) (nextLong() >>> 33); // 31 random bits
        int m = bound - 1;
        if ((bound & m) == 0) {
            return (int) ((bound * (long) r) >> 31);
        }
        for (int u = r; u - (r = u % bound) + m < 0; u = (int) (nextLong() >>> 33)) {
            // reject the top, partial interval
        }
        return r;
    }

    /** Standard normal (Box–Muller; the second value is discarded so the state stays one long). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** A new generator seeded from this one's stream, for independent sub-streams. */
    public SplitMix64 split() {
        return new SplitMix64(nextLong());
    }
}
