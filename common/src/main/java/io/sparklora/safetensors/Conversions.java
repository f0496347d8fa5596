package io.sparklora.safetensors;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * Bulk conversion of little-endian safetensors bytes to float32 or long, one chunk at a time. F32 is a bulk buffer
 * copy; F16 and the float8 types go through exact lookup tables; BF16 is the upper half of an F32 bit pattern.
 */
final class Conversions {
    /** F16 bit pattern → float32, exact for every pattern (subnormals, ±inf, NaN payloads). */
    private static final float[] F16 = new float[1 << 16];
    /** F8_E4M3 ("fn": no infinities) bit pattern → float32. */
    private static final float[] F8_E4M3 = new float[1 << 8];

    static {
        for (int h = 0; h < F16.length; h++) {
            F16[h] = f16ToF32((short) h);
        }
        for (int b = 0; b < F8_E4M3.length; b++) {
            F8_E4M3[b] = e4m3ToF32((byte) b);
        }
    }

    private Conversions() {
    }

    /** IEEE 754 binary16 → binary32: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
    static float f16ToF32(short bits) {
        int h = bits & 0xffff;
        int sign = (h >>> 15) << 31;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            // zero or subnormal: mant · 2^-24, exactly representable in float32
            float v = mant * 0x1.0p-24f;
            return sign == 0 ? v : -v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf (mant 0) or NaN keeping its payload
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 is the upper 16 bits of a float32. */
    static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float8 e4m3fn (exponent bias 7): S.1111.111 is NaN, there is no infinity, subnormals are mant · 2^-9. */
    static float e4m3ToF32(byte bits) {
        int b = bits & 0xff;
        int exp = (b >>> 3) & 0xf;
        int mant = b & 0x7;
        float v;
        if (exp == 0xf && mant == 0x7) {
            v = Float.NaN;
        } else if (exp == 0) {
            v = mant * 0x1.0p-9f;
        } else {
            v = Math.scalb(1f + mant / 8f, exp - 7);
        }
        return (b & 0x80) == 0 ? v : -v;
    }

    /** Elements converted per block: small heap arrays that the JIT vectorizes and that stay in cache. */
    private static final int BLOCK = 1 << 14;

    /**
     * Converts the {@code count} elements of {@code dtype} in {@code src} (little-endian, position 0) into
     * {@code dst[dstOffset, dstOffset + count)}. F32 is one bulk copy; other types are bulk-copied into a heap block,
     * converted there, and bulk-put (element-wise access to direct view buffers runs ~10x slower).
     */
    static void toFloats(DType dtype, ByteBuffer src, int count, FloatBuffer dst, int dstOffset) {
        if (dtype == DType.F32) {
            dst.put(dstOffset, src.asFloatBuffer(), 0, count);
            return;
        }
        float[] out = new float[Math.min(BLOCK, count)];
        short[] shorts = dtype.byteSize() == 2 ? new short[out.length] : null;
        byte[] bytes = dtype.byteSize() == 1 ? new byte[out.length] : null;
        int[] ints = dtype.byteSize() == 4 ? new int[out.length] : null;
        long[] longs = dtype.byteSize() == 8 && dtype != DType.F64 ? new long[out.length] : null;
        double[] doubles = dtype == DType.F64 ? new double[out.length] : null;
        ShortBuffer srcShorts = shorts != null ? src.asShortBuffer() : null;
        for (int off = 0; off < count; off += BLOCK) {
            int n = Math.min(BLOCK, count - off);
            switch (dtype) {
                case F64 -> {
                    src.asDoubleBuffer().get(off, doubles, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) doubles[i];
                    }
                }
                case F16 -> {
                    srcShorts.get(off, shorts, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = F16[shorts[i] & 0xffff];
                    }
                }
                case BF16 -> {
                    srcShorts.get(off, shorts, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = Float.intBitsToFloat(shorts[i] << 16);
                    }
                }
                case I16 -> {
                    srcShorts.get(off, shorts, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = shorts[i];
                    }
                }
                case U16 -> {
                    srcShorts.get(off, shorts, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = shorts[i] & 0xffff;
                    }
                }
                case F8_E5M2, F8_E4M3, I8, U8, BOOL -> {
                    src.get(off, bytes, 0, n);
                    float[] table = dtype == DType.F8_E4M3 ? F8_E4M3 : null;
                    for (int i = 0; i < n; i++) {
                        int b = bytes[i] & 0xff;
                        out[i] = switch (dtype) {
                            case F8_E5M2 -> F16[b << 8]; // e5m2 is the top byte of an F16
                            case F8_E4M3 -> table[b];
                            case I8 -> bytes[i];
                            default -> b;
                        };
                    }
                }
                case I32, U32 -> {
                    src.asIntBuffer().get(off, ints, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = dtype == DType.I32 ? ints[i] : (float) (ints[i] & 0xffffffffL);
                    }
                }
                case I64, U64 -> {
                    src.asLongBuffer().get(off, longs, 0, n);
                    for (int i = 0; i < n; i++) {
                        out[i] = dtype == DType.I64 ? (float) longs[i] : unsignedToFloat(longs[i]);
                    }
                }
                default -> throw new IllegalStateException("unhandled dtype " + dtype);
            }
            dst.put(dstOffset + off, out, 0, n);
        }
    }

    /** Converts {@code count} integer elements of {@code dtype} into {@code dst[dstOffset, dstOffset + count)}. */
    static void toLongs(DType dtype, ByteBuffer src, int count, long[] dst, int dstOffset) {
        switch (dtype) {
            case I64, U64 -> src.asLongBuffer().get(0, dst, dstOffset, count);
            case I32 -> {
                IntBuffer b = src.asIntBuffer();
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = b.get(i);
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = integerAt(dtype, src, i);
                }
            }
        }
    }

    private static long integerAt(DType dtype, ByteBuffer src, int i) {
        return switch (dtype) {
            case I64, U64 -> src.getLong(i * 8);
            case I32 -> src.getInt(i * 4);
            case U32 -> src.getInt(i * 4) & 0xffffffffL;
            case I16 -> src.getShort(i * 2);
            case U16 -> src.getShort(i * 2) & 0xffff;
            case I8 -> src.get(i);
            case U8, BOOL -> src.get(i) & 0xff;
            default -> throw new IllegalArgumentException("Cannot read dtype " + dtype + " as an integer");
        };
    }

    /** An unsigned 64-bit value as the nearest float. */
    private static float unsignedToFloat(long v) {
        return v >= 0 ? (float) v : (float) ((v >>> 1) | (v & 1)) * 2f;
    }
}
