package io.sparklora.safetensors;

/**
 * float32 → the 16-bit float types a checkpoint may be stored in, rounding to nearest, ties to even (as PyTorch's
 * {@code tensor.to(torch.bfloat16 / torch.float16)} does). The inverses are {@link Conversions#bf16ToF32} and
 * {@link Conversions#f16ToF32}.
 */
final class FloatNarrowing {
    private FloatNarrowing() {
    }

    /** bfloat16: the upper half of the float32 bits, rounded; NaN stays a (quiet) NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE binary16: overflow becomes ±inf, values below half the smallest subnormal ±0. */
    static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0)); // inf, or a quiet NaN
        }
        int e = exp - 127 + 15; // the binary16 exponent field
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            // subnormal: (1.mant)·2^(exp−127) in units of 2^-24
            int m = mant | 0x800000;
            int shift = 14 - e;
            int h = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (rem > half || (rem == half && (h & 1) == 1)) {
                h++; // may carry into the smallest normal, which is the right encoding
            }
            return (short) (sign | h);
        }
        int h = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
            h++; // may carry into the exponent, up to inf
        }
        return (short) (sign | h);
    }
}
