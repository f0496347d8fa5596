package io.sparklora.infer;

import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * One sequence's keys and values for every layer, in buffers sized once for the decoder's context, so no step
 * allocates. Keys are stored as attention reads them (after RoPE for LLaMA). {@link #length} positions are filled.
 *
 * <p>Lifecycle: made by {@link KvDecoder#newCache()}, reused across requests after {@link #reset()}; one sequence at a
 * time, and only the decoder that made it may run it.
 */
public final class KvCache {
    final KvDecoder owner;
    final FloatBuffer[] keys; // layers of (context, kvDim)
    final FloatBuffer[] values; // layers of (context, kvDim)
    private final int context;
    int length;

    KvCache(KvDecoder owner, int layers, int context, int kvDim) {
        this.owner = owner;
        this.context = context;
        this.keys = new FloatBuffer[layers];
        this.values = new FloatBuffer[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = Tensor.allocate(Math.multiplyExact(context, kvDim));
            values[l] = Tensor.allocate(Math.multiplyExact(context, kvDim));
        }
    }

    /** Positions already run (the next token goes at this position). */
    public int length() {
        return length;
    }

    /** Positions this cache can hold. */
    public int capacity() {
        return context;
    }

    /** Forgets every position (the buffers stay). */
    public void reset() {
        length = 0;
    }

    /** Keeps only the first n positions (a rewound sequence). */
    public void truncate(int n) {
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("Cannot truncate a cache of " + length + " positions to " + n);
        }
        length = n;
    }
}
