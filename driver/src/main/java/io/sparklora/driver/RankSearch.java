package io.sparklora.driver;

import java.util.List;

/**
 * {@code train --rank auto}: the seed's "start with a low rank and raise it only while it pays", per adapter. Train
 * {@code min}; double the rank while the held-out loss improves on the previous rank's by more than {@code tolerance}
 * (relative), never past {@code max}; then keep the smallest rank tried whose loss is within {@code tolerance} of the
 * best tried. The decisions only; {@link RankSearchJob} runs one Spark stage per round.
 *
 * @param min       the first rank (≥ 1)
 * @param max       no rank beyond this (≥ min)
 * @param tolerance relative improvement worth another doubling, and closeness to the best that is good enough
 */
public record RankSearch(int min, int max, double tolerance) {
    /** One tried rank: its held-out loss and how long it took. */
    public record Trial(int rank, double heldOutLoss, double seconds) {
    }

    public RankSearch {
        if (min < 1) {
            throw new IllegalArgumentException("Invalid --rank-min " + min + ": must be >= 1");
        }
        if (max < min) {
            throw new IllegalArgumentException("Invalid --rank-max " + max + ": must be >= --rank-min " + min);
        }
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
            throw new IllegalArgumentException("Invalid --rank-tolerance " + tolerance + ": must be >= 0 and finite");
        }
    }

    /** The next rank to try after {@code trials} (in the order tried), or 0 when the search is over. */
    public int next(List<Trial> trials) {
        if (trials.isEmpty()) {
            return min;
        }
        Trial last = trials.get(trials.size() - 1);
        if (!Double.isFinite(last.heldOutLoss()) || last.rank() >= max) {
            return 0;
        }
        if (trials.size() >= 2) {
            double previous = trials.get(trials.size() - 2).heldOutLoss();
            if ((previous - last.heldOutLoss()) / previous <= tolerance) {
                return 0; // the last doubling did not pay
            }
        }
        return Math.min(2 * last.rank(), max);
    }

    /** The smallest rank tried whose loss is within the tolerance of the best tried. */
    public int choose(List<Trial> trials) {
        double best = trials.stream().mapToDouble(Trial::heldOutLoss).filter(Double::isFinite).min()
                .orElseThrow(() -> new IllegalStateException("Cannot choose a rank: no trial has a finite loss"));
        return trials.stream()
                .filter(t -> Double.isFinite(t.heldOutLoss()) && t.heldOutLoss() <= best * (1 + tolerance))
                .mapToInt(Trial::rank).min().orElseThrow();
    }
}
