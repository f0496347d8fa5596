package io.sparklora.model;

/** How a linear layer's weight matrix is stored in the checkpoint. */
public enum WeightLayout {
    /** {@code torch.nn.Linear}: weight (out, in), y = x·Wᵀ + b. LLaMA. */
    OUT_IN,
    /** GPT-2's {@code Conv1D}: weight (in, out), y = x·W + b. PEFT calls this {@code fan_in_fan_out = true}. */
    IN_OUT
}
