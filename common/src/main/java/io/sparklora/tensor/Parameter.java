package io.sparklora.tensor;

/**
 * A trainable tensor and its gradient, named by its checkpoint key (a Hugging Face key for base weights, a PEFT key
 * for LoRA matrices). Backward passes add into {@link #grad}; the optimizer zeroes it after each update.
 *
 * @param name  checkpoint key, e.g. {@code model.layers.3.self_attn.q_proj.weight}
 * @param value the parameter (any shape)
 * @param grad  same shape as value
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    public Parameter {
        if (value.size() != grad.size()) {
            throw new IllegalArgumentException("Invalid parameter " + name + ": gradient has " + grad.size()
                    + " elements, value has " + value.size());
        }
    }

    /** A parameter whose gradient is a fresh zero tensor of the value's shape. */
    public static Parameter of(String name, Tensor value) {
        return new Parameter(name, value, Tensor.zeros(value.shape()));
    }
}
