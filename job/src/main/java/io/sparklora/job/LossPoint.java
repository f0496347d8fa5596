package io.sparklora.job;

/**
 * One point of a loss curve.
 *
 * @param step         optimizer steps completed (1-based)
 * @param loss         mean token cross-entropy (natural log)
 * @param learningRate learning rate of that step
 */
public record LossPoint(int step, double loss, double learningRate) {
}
