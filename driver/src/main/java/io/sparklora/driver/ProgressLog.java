package io.sparklora.driver;

import io.sparklora.job.StepReport;
import io.sparklora.job.TrainProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The progress line of one adapter, logged by the executor every {@code intervalSeconds} and at the first and last
 * step: {@code adapter en: step 40/200 (20%) loss 2.3124 held-out 2.4100 lr 1.90e-04 12345 tok/s ETA 1m05s}.
 */
final class ProgressLog implements TrainProgress {
    private static final Logger LOG = LoggerFactory.getLogger("io.sparklora.progress");
    private final long intervalNanos;
    private long last = Long.MIN_VALUE;

    ProgressLog(double intervalSeconds) {
        this.intervalNanos = (long) (intervalSeconds * 1e9);
    }

    @Override
    public void onStep(StepReport r) {
        long now = System.nanoTime();
        boolean due = last == Long.MIN_VALUE || now - last >= intervalNanos || r.step() == r.totalSteps();
        if (!due) {
            return;
        }
        last = now;
        LOG.info(line(r));
    }

    @Override
    public void onNotice(String message) {
        LOG.warn(message);
    }

    /**
     * What a train task listens with: this log, and after each step the job's test hooks for {@code adapter} (a no-op
     * outside tests) over {@code weights}, the tensors the trainer updates in place.
     */
    TrainProgress withHooks(TestHooks hooks, String adapter, boolean firstAttempt,
            Iterable<io.sparklora.tensor.Tensor> weights) {
        ProgressLog log = this;
        return new TrainProgress() {
            @Override
            public void onStep(StepReport report) {
                log.onStep(report);
                hooks.afterStep(adapter, report.step(), firstAttempt, weights);
            }

            @Override
            public void onNotice(String message) {
                log.onNotice(message);
            }
        };
    }

    static String line(StepReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("adapter ").append(r.adapterName()).append(": step ").append(r.step()).append('/')
                .append(r.totalSteps()).append(" (").append(100L * r.step() / r.totalSteps()).append("%) loss ")
                .append(String.format("%.4f", r.loss()));
        if (!Double.isNaN(r.heldOutLoss())) {
            sb.append(String.format(" held-out %.4f", r.heldOutLoss()));
        }
        sb.append(String.format(" lr %.2e %.0f tok/s ETA %s", r.learningRate(), r.tokensPerSecond(),
                duration(r.etaSeconds())));
        return sb.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
