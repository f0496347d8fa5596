package io.sparklora.safetensors;

import java.util.Arrays;

/**
 * One header entry of a safetensors file.
 *
 * @param name  the tensor's key
 * @param dtype element type
 * @param shape dimensions, each non-negative; empty for a scalar
 * @param begin first byte, relative to the start of the data buffer (after the header)
 * @param end   one past the last byte, relative to the data buffer
 */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Invalid shape " + Arrays.toString(shape) + " of tensor " + name
                        + ": negative dimension");
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("Invalid data_offsets [" + begin + ", " + end + "] of tensor " + name);
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements, or -1 when the product overflows a long. */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
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
