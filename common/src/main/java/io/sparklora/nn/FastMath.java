package io.sparklora.nn;

/**
 * Float helpers for the element-wise loops: an exp within 2 ulp of {@link Math#exp} at a fraction of its cost (the
 * softmax and SiLU loops spend most of their time in exp), and 4-way unrolled sums that break the add dependency chain.
 */
final class FastMath {
    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145752f; // ln 2 split so that k·LN2_HI is exact for |k| < 2^8
    private static final float LN2_LO = 1.42860677e-6f;
    private static final float SHIFTER = 12582912f; // 1.5·2^23: adding it rounds to an integer kept in the mantissa
    private static final int SHIFTER_BITS = Float.floatToRawIntBits(SHIFTER);

    private FastMath() {
    }

    /**
     * e^x in float: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial (truncation below 1e-8)
     * evaluated in Estrin's scheme (a short dependency chain), times 2^k built in the exponent bits. k is rounded with
     * the 1.5·2^23 shifter trick instead of a float-to-int conversion. Outside [-87, 88] (results near the ends of the
     * float range) it defers to {@link Math#exp}.
     */
    static float exp(float x) {
        if (!(x >= -87f && x <= 88f)) {
            return (float) Math.exp(x);
        }
        float shifted = x * LOG2E + SHIFTER; // round(x·log2 e) in the low mantissa bits
        float k = shifted - SHIFTER;
        int ki = Float.floatToRawIntBits(shifted) - SHIFTER_BITS;
        float r = (x - k * LN2_HI) - k * LN2_LO;
        float r2 = r * r;
        float a = 1f + r;
        float b = 0.5f + r * (1f / 6f);
        float c = (1f / 24f) + r * (1f / 120f);
        float d = (1f / 720f) + r * (1f / 5040f);
        float p = a + r2 * (b + r2 * (c + r2 * d));
        return p * Float.intBitsToFloat((ki + 127) << 23);
    }

    /** Σ a[i]·b[i] for i < n, four partial sums. */
    static float dot(float[] a, float[] b, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ a[i] for i < n, four partial sums. */
    static float sum(float[] a, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
