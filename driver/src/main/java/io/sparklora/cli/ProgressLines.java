package io.sparklora.cli;

import io.sparklora.job.StepReport;
import io.sparklora.job.TrainProgress;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress lines of an in-process training run, about {@code lines} of them per run plus one at every held-out
 * evaluation and at the last step: {@code [name] step 120/2000 loss 2.3141 held-out 2.4012 lr 9.8e-04 8123 tok/s
 * ETA 3m05s}.
 */
final class ProgressLines implements TrainProgress {
    private final PrintStream out;
    private final int lines;

    ProgressLines(PrintStream out, int lines) {
        this.out = out;
        this.lines = Math.max(1, lines);
    }

    @Override
    public void onStep(StepReport r) {
        int every = Math.max(1, r.totalSteps() / lines);
        boolean heldOut = !Double.isNaN(r.heldOutLoss());
        if (r.step() % every != 0 && r.step() != r.totalSteps() && !heldOut && r.step() != 1) {
            return;
        }
        out.println(format(r));
        out.flush();
    }

    static String format(StepReport r) {
        StringBuilder s = new StringBuilder();
        s.append('[').append(r.adapterName()).append("] step ").append(r.step()).append('/').append(r.totalSteps())
                .append(String.format(Locale.ROOT, " loss %.4f", r.loss()));
        if (!Double.isNaN(r.heldOutLoss())) {
            s.append(String.format(Locale.ROOT, " held-out %.4f", r.heldOutLoss()));
        }
        s.append(String.format(Locale.ROOT, " lr %.2e %.0f tok/s ETA %s", r.learningRate(), r.tokensPerSecond(),
                duration(r.etaSeconds())));
        return s.toString();
    }

    /** 42s, 3m05s, 1h02m. */
    static String duration(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
    }
}
