package io.sparklora.safetensors;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * A well-formed checkpoint with a tensor too big to load: every tensor becomes one float32 buffer, which holds at most
 * {@link TensorInfo#MAX_F32_BYTES}. Raised while the header is parsed, before any of the tensor's data is read.
 */
public final class TensorTooLargeException extends SafeTensorsException {
    public TensorTooLargeException(String file, String tensor, long[] shape, BigInteger f32Bytes) {
        super("Cannot load base model " + file + ": tensor " + tensor + " " + Arrays.toString(shape) + " is " + f32Bytes
                + " bytes as F32, over the 2 GiB a single tensor may hold (" + TensorInfo.MAX_F32_BYTES
                + " bytes, " + TensorInfo.MAX_F32_BYTES / Float.BYTES + " elements); use a base model whose every "
                + "tensor fits, e.g. a smaller vocabulary or hidden size (the embedding is vocab_size x hidden_size)");
    }
}
