package io.sparklora.job;

import io.sparklora.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * What a finished run hands back.
 *
 * @param adapterName      the adapter
 * @param mode             LoRA or full weights
 * @param parameters       the trained tensors by name (LoRA A/B by PEFT key, or every base weight by HF key); these
 *                         are the model's live tensors, not copies
 * @param steps            optimizer steps of the run
 * @param resumedFromStep  the checkpoint step this process started from (0 for a fresh run)
 * @param finalTrainLoss   training loss of the last step
 * @param finalHeldOutLoss held-out loss at the end, or NaN when nothing was held out
 * @param trainHistory     training loss of every step
 * @param heldOutHistory   held-out loss at every evaluation
 * @param tokensTrained    input tokens trained by this process (excluding steps before the resume)
 * @param timings          where this process's time went
 */
public record TrainResult(String adapterName, TrainMode mode, Map<String, Tensor> parameters, int steps,
                          int resumedFromStep, double finalTrainLoss, double finalHeldOutLoss,
                          List<LossPoint> trainHistory, List<LossPoint> heldOutHistory, long tokensTrained,
                          Timings timings) {
    /**
     * Wall-clock seconds of this process's run.
     *
     * @param trainSeconds      forward, backward and optimizer steps
     * @param evalSeconds       held-out evaluation
     * @param checkpointSeconds writing checkpoints
     * @param totalSeconds      the whole run, including loading a checkpoint
     */
    public record Timings(double trainSeconds, double evalSeconds, double checkpointSeconds, double totalSeconds) {
    }

    /** Training tokens per second of training time. */
    public double tokensPerSecond() {
        return timings.trainSeconds() > 0 ? tokensTrained / timings.trainSeconds() : 0;
    }
}
