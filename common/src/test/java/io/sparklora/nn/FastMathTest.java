package io.sparklora.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FastMathTest {
    /** Within 2 ulp of Math.exp (rounded to float) over the whole range softmax and SiLU use, and exact at the ends. */
    @Test
    void expMatchesMathExp() {
        double worst = 0;
        for (float x = -100f; x <= 100f; x += 3.7e-4f) {
            float expected = (float) Math.exp(x);
            float got = FastMath.exp(x);
            if (expected == 0f || Float.isInfinite(expected) || expected < Float.MIN_NORMAL) {
                assertTrue(got == expected || Math.abs(got - expected) <= Float.MIN_NORMAL, "exp(" + x + ") = " + got);
                continue;
            }
            worst = Math.max(worst, Math.abs(got - expected) / Math.ulp(expected));
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
        assertEquals(1f, FastMath.exp(0f));
        assertEquals(0f, FastMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, FastMath.exp(1000f));
        assertTrue(Float.isNaN(FastMath.exp(Float.NaN)));
    }

    @Test
    void dotAndSumCoverTheTail() {
        float[] a = {1, 2, 3, 4, 5, 6, 7};
        float[] b = {7, 6, 5, 4, 3, 2, 1};
        assertEquals(84f, FastMath.dot(a, b, 7));
        assertEquals(28f, FastMath.sum(a, 7));
        assertEquals(6f, FastMath.sum(a, 3));
    }
}
