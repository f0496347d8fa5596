package io.sparklora.serve;

/**
 * The log-probability of one token at one position, and the most likely tokens there (OpenAI's {@code logprobs}).
 *
 * @param topTokens   (k) ids, most likely first (lower id first on ties)
 * @param topLogprobs (k) their log-probabilities
 */
public record TokenLogprob(int token, double logprob, int[] topTokens, double[] topLogprobs) {
    /** log-softmax of {@code logits} at {@code token}, with the k most likely tokens. */
    public static TokenLogprob of(float[] logits, int token, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        int[] top = new int[Math.min(k, logits.length)];
        double[] topLp = new double[top.length];
        boolean[] taken = new boolean[logits.length];
        for (int i = 0; i < top.length; i++) {
            int best = -1;
            for (int v = 0; v < logits.length; v++) {
                if (!taken[v] && (best < 0 || logits[v] > logits[best])) {
                    best = v;
                }
            }
            taken[best] = true;
            top[i] = best;
            topLp[i] = logits[best] - lse;
        }
        return new TokenLogprob(token, logits[token] - lse, top, topLp);
    }
}
