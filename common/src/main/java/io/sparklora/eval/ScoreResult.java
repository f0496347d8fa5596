package io.sparklora.eval;

/**
 * What {@code score} reports: how many next-token predictions were scored, their mean cross-entropy (natural log) and
 * its exponential.
 *
 * @param tokensScored number of predicted positions over all windows (positive)
 * @param meanLoss     mean cross-entropy in nats per predicted token (finite)
 * @param perplexity   exp(meanLoss)
 */
public record ScoreResult(long tokensScored, double meanLoss, double perplexity) {
    public ScoreResult {
        if (tokensScored <= 0) {
            throw new IllegalArgumentException("Invalid tokensScored " + tokensScored + ": must be > 0");
        }
        if (!Double.isFinite(meanLoss)) { // not >= 0: float rounding can leave a near-perfect model at -1e-9
            throw new IllegalArgumentException("Invalid meanLoss " + meanLoss + ": must be finite");
        }
    }

    /** The result for a total loss summed over {@code tokensScored} predictions. */
    public static ScoreResult ofSum(long tokensScored, double lossSum) {
        double mean = lossSum / tokensScored;
        return new ScoreResult(tokensScored, mean, Math.exp(mean));
    }

    /** The one JSON line {@code score} prints: {@code {"tokens_scored": n, "mean_loss": x, "perplexity": p}}. */
    public String toJson() {
        return "{\"tokens_scored\": " + tokensScored + ", \"mean_loss\": " + jsonNumber(meanLoss)
                + ", \"perplexity\": " + jsonNumber(perplexity) + "}";
    }

    /** Shortest round-trip decimal; JSON has no Infinity, so an overflowing perplexity is written as null. */
    private static String jsonNumber(double x) {
        return Double.isFinite(x) ? Double.toString(x) : "null";
    }
}
