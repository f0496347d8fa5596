package io.sparklora.safetensors;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * One header entry of a safetensors file.
 *
 * <p>Every tensor is read into one float32 buffer, so its size as F32 must stay within {@link #MAX_F32_BYTES}; the
 * constructor refuses anything larger, which keeps {@link #numel} exact and within an int.
 *
 * @param name  the tensor's key
 * @param dtype element type
 * @param shape dimensions, each non-negative; empty for a scalar
 * @param begin first byte, relative to the start of the data buffer (after the header)
 * @param end   one past the last byte, relative to the data buffer
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {
    /** The most bytes one float32 buffer (a Java array or ByteBuffer) holds: just under 2 GiB. */
    public static final long MAX_F32_BYTES = Integer.MAX_VALUE;

    public TensorInfo {
        shape = shape.clone();
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Invalid shape " + Arrays.toString(shape) + " of tensor " + name
                        + ": negative dimension");
            }
        }
        long[] dims = Arrays.stream(shape).asLongStream().toArray();
        if (f32Bytes(dims).compareTo(BigInteger.valueOf(MAX_F32_BYTES)) > 0) {
            throw new IllegalArgumentException("Tensor " + name + " " + Arrays.toString(shape) + " is "
                    + f32Bytes(dims) + " bytes as F32, over the " + MAX_F32_BYTES + " bytes one tensor may hold");
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("Invalid data_offsets [" + begin + ", " + end + "] of tensor " + name);
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements; exact, and at most MAX_F32_BYTES / 4 by construction. */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Size of a tensor of {@code shape} once converted to float32, exact for any dimensions (no overflow). */
    public static BigInteger f32Bytes(long[] shape) {
        BigInteger n = BigInteger.valueOf(Float.BYTES);
        for (long d : shape) {
            n = n.multiply(BigInteger.valueOf(d));
        }
        return n;
    }

    /** end - begin. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
