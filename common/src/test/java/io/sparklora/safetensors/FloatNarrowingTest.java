package io.sparklora.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** float32 → BF16 / F16 against the widening conversions the reader uses: exact values survive, ties go to even. */
class FloatNarrowingTest {
    @Test
    void everyF16ValueRoundTripsAndMidpointsRoundToEven() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = Conversions.f16ToF32((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Conversions.f16ToF32(FloatNarrowing.toF16(f))), "NaN " + h);
                continue;
            }
            assertEquals(h, FloatNarrowing.toF16(f) & 0xffff, "f16 bits " + Integer.toHexString(h));
            int next = h + 1;
            if ((h & 0x7fff) < 0x7bff && (next & 0x7fff) != 0) { // a finite neighbour of the same sign
                float g = Conversions.f16ToF32((short) next);
                float mid = (f + g) / 2; // exact in float32: f16 has 11 significant bits
                int even = (h & 1) == 0 ? h : next;
                assertEquals(even, FloatNarrowing.toF16(mid) & 0xffff, "midpoint after " + Integer.toHexString(h));
                assertEquals(h, FloatNarrowing.toF16(Math.nextAfter(mid, f)) & 0xffff);
                assertEquals(next, FloatNarrowing.toF16(Math.nextAfter(mid, g)) & 0xffff);
            }
        }
        assertEquals(0x7c00, FloatNarrowing.toF16(65520f) & 0xffff, "the midpoint of 65504 and 2^16 ties to inf");
        assertEquals(0x7bff, FloatNarrowing.toF16(65519f) & 0xffff);
        assertEquals(0x8000, FloatNarrowing.toF16(-1e-8f) & 0xffff);
        assertEquals(0x0001, FloatNarrowing.toF16(0x1.0p-24f) & 0xffff, "the smallest subnormal");
    }

    @Test
    void everyBf16ValueRoundTripsAndMidpointsRoundToEven() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = Conversions.bf16ToF32((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Conversions.bf16ToF32(FloatNarrowing.toBf16(f))));
                continue;
            }
            assertEquals(h, FloatNarrowing.toBf16(f) & 0xffff);
            int bits = Float.floatToRawIntBits(f);
            if (!Float.isInfinite(f) && (h & 0x7fff) < 0x7f7f) {
                float mid = Float.intBitsToFloat(bits + 0x8000); // halfway to the next bf16 value
                int even = (h & 1) == 0 ? h : h + 1;
                assertEquals(even, FloatNarrowing.toBf16(mid) & 0xffff, "midpoint after " + Integer.toHexString(h));
            }
        }
        assertEquals(0x3f80, FloatNarrowing.toBf16(1f) & 0xffff);
        assertEquals(0x3f81, FloatNarrowing.toBf16(1.00390625f + 1e-7f) & 0xffff);
    }
}
