package io.sparklora.model;

import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.List;

/**
 * A causal language model over a frozen base, optionally with a LoRA adapter, that computes the mean token
 * cross-entropy of a {@link Batch} and its gradients. One instance belongs to one thread: it owns the activation
 * buffers of its last forward pass (allocated once per batch shape and reused).
 */
public interface CausalLm {
    ModelConfig config();

    /**
     * Runs the forward pass, keeps what backward needs, and returns the mean cross-entropy (natural log) over the
     * positions whose target is not {@link Batch#IGNORE}; 0 when no position carries loss.
     */
    double forward(Batch batch);

    /**
     * Adds the gradient of the last {@link #forward}'s loss to every trainable parameter's {@code grad}. Callers zero
     * gradients between optimizer steps; accumulating over several batches is the caller's choice.
     */
    void backward();

    /** (rows, vocab) logits of the last forward pass, row {@code b·seqLen + t}. Valid until the next forward. */
    Tensor logits();

    /** The tensors backward writes gradients for: the LoRA matrices, or every base weight when training all weights. */
    List<Parameter> trainableParameters();

    /** Dropout on (training). */
    void train();

    /** Dropout off (evaluation, scoring). The default after construction. */
    void eval();

    /** The stream dropout masks are drawn from; its state goes into checkpoints. */
    SplitMix64 dropoutRng();
}
