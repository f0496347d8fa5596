package io.sparklora.safetensors;

import io.sparklora.tensor.Tensor;
import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/** Named tensors in a checkpoint: one safetensors file, or several shards behind an index. */
public interface TensorSource extends Closeable {
    /** What to call the source in messages: a path. */
    String name();

    /** The header's {@code __metadata__} (or the index's {@code metadata}); empty when absent. */
    Map<String, String> metadata();

    /** Every tensor name, in header order. */
    Set<String> names();

    /** The header entry of {@code name}, or null if there is no such tensor. */
    TensorInfo info(String name);

    /** The tensor's values as float32, converted from any float or integer dtype; fails naming an absent name. */
    Tensor read(String name) throws IOException;

    /**
     * The tensor's values as float32 in a heap array (no off-heap copy), converted as {@link #read} converts them;
     * fails naming an absent name.
     */
    float[] readFloats(String name) throws IOException;

    /** The values of an integer (or BOOL) tensor, exactly; fails for float dtypes. U64 values above 2⁶³ wrap. */
    long[] readLongs(String name) throws IOException;
}
