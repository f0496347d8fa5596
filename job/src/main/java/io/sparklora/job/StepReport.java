package io.sparklora.job;

/**
 * What the trainer reports after each optimizer step.
 *
 * @param adapterName     the adapter being trained
 * @param step            steps completed (1-based)
 * @param totalSteps      steps of the whole run
 * @param loss            mean training loss of the step's micro-batches
 * @param learningRate    learning rate of the step
 * @param gradNorm        global gradient norm before clipping
 * @param heldOutLoss     held-out loss measured after this step, or NaN when none was measured
 * @param tokensPerSecond input tokens trained per second over the step (forward, backward and update)
 * @param etaSeconds      estimated seconds to the end: remaining steps times this process's mean step time
 */
public record StepReport(String adapterName, int step, int totalSteps, double loss, double learningRate,
                         double gradNorm, double heldOutLoss, double tokensPerSecond, double etaSeconds) {
}
