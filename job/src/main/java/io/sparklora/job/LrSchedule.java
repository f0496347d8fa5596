package io.sparklora.job;

/**
 * Linear warm-up then cosine decay (Loshchilov and Hutter 2017, "SGDR", without restarts), as Hugging Face's
 * {@code get_cosine_schedule_with_warmup} but decaying to a floor {@code peak · minRatio} rather than to zero, and with
 * the first warm-up step already at {@code peak / warmup} (a step at learning rate 0 would be wasted).
 *
 * <p>For the step with 0-based index s of {@code total}: {@code s < warmup}: {@code peak · (s+1) / warmup}; otherwise,
 * with {@code p = (s − warmup) / (total − warmup)}: {@code min + (peak − min) · ½ (1 + cos π p)}.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, double minRatio) {
    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0 || !(minRatio >= 0 && minRatio <= 1)) {
            throw new IllegalArgumentException("Invalid schedule: peak=" + peak + ", warmupSteps=" + warmupSteps
                    + ", totalSteps=" + totalSteps + ", minRatio=" + minRatio);
        }
    }

    /** Learning rate of the step with 0-based index {@code step}. */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double min = peak * minRatio;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
    }
}
