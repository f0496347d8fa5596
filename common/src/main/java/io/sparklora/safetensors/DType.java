package io.sparklora.safetensors;

/**
 * Element types of the safetensors format, named as the header's {@code dtype} field spells them. All multi-byte types
 * are stored little-endian.
 */
public enum DType {
    F64(8, Kind.FLOAT),
    F32(4, Kind.FLOAT),
    F16(2, Kind.FLOAT),
    BF16(2, Kind.FLOAT),
    /** float8 with 5 exponent and 2 mantissa bits (IEEE-like: has inf and NaN); the top byte of an F16. */
    F8_E5M2(1, Kind.FLOAT),
    /** float8 "e4m3fn": 4 exponent bits, bias 7, 3 mantissa bits, no infinities, NaN only at S.1111.111. */
    F8_E4M3(1, Kind.FLOAT),
    I64(8, Kind.SIGNED),
    I32(4, Kind.SIGNED),
    I16(2, Kind.SIGNED),
    I8(1, Kind.SIGNED),
    U64(8, Kind.UNSIGNED),
    U32(4, Kind.UNSIGNED),
    U16(2, Kind.UNSIGNED),
    U8(1, Kind.UNSIGNED),
    /** One byte per element, 0 or 1. */
    BOOL(1, Kind.UNSIGNED);

    private enum Kind { FLOAT, SIGNED, UNSIGNED }

    private final int byteSize;
    private final Kind kind;

    DType(int byteSize, Kind kind) {
        this.byteSize = byteSize;
        this.kind = kind;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether the type holds integers (BOOL included), which {@link TensorSource} can also return as longs. */
    public boolean isInteger() {
        return kind != Kind.FLOAT;
    }

    /** Whether the integer type is unsigned (U8…U64, BOOL). */
    public boolean isUnsigned() {
        return kind == Kind.UNSIGNED;
    }

    /** The dtype a header names; fails naming the string when it is not a safetensors dtype this reader knows. */
    public static DType parse(String s) {
        for (DType d : values()) {
            if (d.name().equals(s)) {
                return d;
            }
        }
        throw new IllegalArgumentException("Unknown safetensors dtype '" + s + "'");
    }
}
