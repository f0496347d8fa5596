package io.sparklora.generate;

/**
 * How {@link Generator} picks each next token.
 *
 * @param maxNewTokens tokens to generate at most (generation also stops at the model's max positions)
 * @param temperature  0 for greedy decoding (argmax), else the softmax temperature
 * @param topP         nucleus sampling (Holtzman et al. 2019, "The Curious Case of Neural Text Degeneration"): sample
 *                     from the smallest set of most likely tokens whose probability reaches topP; 1 keeps all
 * @param seed         seed of the sampling stream; the same seed, model and prompt give the same tokens
 */
public record Sampling(int maxNewTokens, double temperature, double topP, long seed) {
    public Sampling {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("Invalid maxNewTokens " + maxNewTokens + ": must be >= 0");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("Invalid temperature " + temperature
                    + ": must be >= 0 and finite (0 = greedy)");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("Invalid topP " + topP + ": must be in (0, 1]");
        }
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static Sampling greedy(int maxNewTokens) {
        return new Sampling(maxNewTokens, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
