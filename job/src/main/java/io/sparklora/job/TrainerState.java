package io.sparklora.job;

import io.sparklora.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Everything an exact resume needs, as written to and read from a checkpoint: after loading it, the next step computes
 * bit for bit what the uninterrupted run computed.
 *
 * @param adapterName     the adapter
 * @param step            optimizer steps completed
 * @param totalSteps      steps of the whole run (a resume with another length is refused)
 * @param runFingerprint  SHA-256 (hex) of the spec and the packed windows: a resume with other settings or data is
 *                        refused
 * @param adamStep        AdamW's update count (bias correction)
 * @param dropoutRngState state of the model's dropout generator
 * @param data            position of the data-order stream
 * @param parameters      trainable tensors by name (LoRA A/B by PEFT key, or base weights by HF key)
 * @param adamM           AdamW first moments by parameter name
 * @param adamV           AdamW second moments by parameter name
 * @param trainHistory    training loss per step so far
 * @param heldOutHistory  held-out losses so far
 */
public record TrainerState(String adapterName, int step, int totalSteps, String runFingerprint, long adamStep, long dropoutRngState,
                           BatchStream.Position data, Map<String, Tensor> parameters, Map<String, Tensor> adamM,
                           Map<String, Tensor> adamV, List<LossPoint> trainHistory, List<LossPoint> heldOutHistory) {
}
