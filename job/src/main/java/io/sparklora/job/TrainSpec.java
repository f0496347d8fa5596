package io.sparklora.job;

import io.sparklora.lora.LoraConfig;
import java.io.Serializable;
import java.util.regex.Pattern;

/**
 * Everything one training run needs besides the base model and the rows: the small, immutable value the driver builds
 * once and ships to a task. Built with {@link #lora} or {@link #fullWeights} and the {@link Builder}'s setters; every
 * field is validated here with a message naming it.
 *
 * @param adapterName      name of the adapter, {@code [A-Za-z0-9._-]+}; appears in every error and progress line
 * @param mode             LoRA or full weights
 * @param lora             the adapter's configuration in LoRA mode; null in full-weights mode
 * @param steps            optimizer steps to take, or 0 when {@code epochs} sets the length
 * @param epochs           passes over the training windows, or 0 when {@code steps} sets the length
 * @param batchSize        windows per micro-batch
 * @param seqLen           tokens per window
 * @param learningRate     peak learning rate
 * @param warmupSteps      steps of linear warm-up from 0 to the peak
 * @param minLrRatio       the cosine decays to {@code learningRate · minLrRatio}
 * @param weightDecay      AdamW's decoupled weight decay (not applied to 1-D tensors: biases, norm weights)
 * @param beta1            AdamW β₁
 * @param beta2            AdamW β₂
 * @param eps              AdamW ε
 * @param gradClip         maximum global gradient norm, or 0 for no clipping
 * @param gradAccumulation micro-batches summed into one optimizer step
 * @param evalEvery        held-out loss every this many steps (and always at the end), or 0 for the end only
 * @param checkpointEvery  checkpoint every this many steps (and always at the end), or 0 for the end only
 * @param heldOutFraction  fraction of windows held out for evaluation, in [0, 1); when positive at least one window
 * @param seed             seed of the held-out split, the data order and dropout
 */
public record TrainSpec(String adapterName, TrainMode mode, LoraConfig lora, int steps, int epochs, int batchSize,
                        int seqLen, double learningRate, int warmupSteps, double minLrRatio, double weightDecay,
                        double beta1, double beta2, double eps, double gradClip, int gradAccumulation, int evalEvery,
                        int checkpointEvery, double heldOutFraction, long seed) implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    public TrainSpec {
        if (adapterName == null || !NAME.matcher(adapterName).matches() || adapterName.equals(".")
                || adapterName.equals("..")) {
            throw new IllegalArgumentException("Invalid adapterName " + quote(adapterName)
                    + ": must be non-empty, made of [A-Za-z0-9._-], and not . or ..");
        }
        if (mode == null) {
            throw new IllegalArgumentException("Invalid mode null for adapter " + adapterName);
        }
        if (mode == TrainMode.LORA && lora == null) {
            throw new IllegalArgumentException("Invalid lora null for adapter " + adapterName
                    + ": LORA mode needs a LoraConfig");
        }
        if (mode == TrainMode.FULL_WEIGHTS && lora != null) {
            throw new IllegalArgumentException("Invalid lora " + lora + " for adapter " + adapterName
                    + ": FULL_WEIGHTS mode trains no adapter");
        }
        if (steps < 0 || epochs < 0 || (steps > 0) == (epochs > 0)) {
            throw new IllegalArgumentException("Invalid steps " + steps + " and epochs " + epochs
                    + ": exactly one must be > 0");
        }
        positive("batchSize", batchSize);
        if (seqLen < 2) {
            throw new IllegalArgumentException("Invalid seqLen " + seqLen + ": must be >= 2");
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("Invalid learningRate " + learningRate + ": must be > 0 and finite");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("Invalid warmupSteps " + warmupSteps + ": must be >= 0");
        }
        inRange("minLrRatio", minLrRatio, 0, 1, true);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("Invalid weightDecay " + weightDecay + ": must be >= 0 and finite");
        }
        inRange("beta1", beta1, 0, 1, false);
        inRange("beta2", beta2, 0, 1, false);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("Invalid eps " + eps + ": must be > 0 and finite");
        }
        if (!(gradClip >= 0) || Double.isInfinite(gradClip)) {
            throw new IllegalArgumentException("Invalid gradClip " + gradClip + ": must be >= 0 (0 = no clipping)");
        }
        positive("gradAccumulation", gradAccumulation);
        if (evalEvery < 0) {
            throw new IllegalArgumentException("Invalid evalEvery " + evalEvery + ": must be >= 0 (0 = at the end)");
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("Invalid checkpointEvery " + checkpointEvery
                    + ": must be >= 0 (0 = at the end)");
        }
        inRange("heldOutFraction", heldOutFraction, 0, 1, false);
    }

    private static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("Invalid " + field + " " + value + ": must be > 0");
        }
    }

    /** value in [lo, hi] when hiInclusive, else [lo, hi). */
    private static void inRange(String field, double value, double lo, double hi, boolean hiInclusive) {
        boolean ok = value >= lo && (hiInclusive ? value <= hi : value < hi);
        if (!ok) {
            throw new IllegalArgumentException("Invalid " + field + " " + value + ": must be in [" + lo + ", " + hi
                    + (hiInclusive ? "]" : ")"));
        }
    }

    /** A LoRA run with the defaults below. */
    public static Builder lora(String adapterName, LoraConfig lora) {
        return new Builder(adapterName, TrainMode.LORA, lora);
    }

    /** A full-weights run (pretraining or full fine-tuning) with the defaults below. */
    public static Builder fullWeights(String name) {
        return new Builder(name, TrainMode.FULL_WEIGHTS, null);
    }

    /** Micro-batches per optimizer step times windows per micro-batch times tokens per window. */
    public long tokensPerStep() {
        return (long) gradAccumulation * batchSize * seqLen;
    }

    /** Optimizer steps of the run given the number of training windows. */
    public int totalSteps(int trainWindows) {
        if (steps > 0) {
            return steps;
        }
        long windowsPerStep = (long) gradAccumulation * batchSize;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (epochs * (long) trainWindows + windowsPerStep - 1) / windowsPerStep));
    }

    /** Mutable builder; defaults follow Hugging Face's Trainer and PEFT's examples where they have one. */
    public static final class Builder {
        private final String adapterName;
        private final TrainMode mode;
        private final LoraConfig lora;
        private int steps = 100;
        private int epochs = 0;
        private int batchSize = 8;
        private int seqLen = 128;
        private double learningRate = 2e-4;
        private int warmupSteps = 0;
        private double minLrRatio = 0.1;
        private double weightDecay = 0.0;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double gradClip = 1.0;
        private int gradAccumulation = 1;
        private int evalEvery = 0;
        private int checkpointEvery = 0;
        private double heldOutFraction = 0.1;
        private long seed = 42;

        private Builder(String adapterName, TrainMode mode, LoraConfig lora) {
            this.adapterName = adapterName;
            this.mode = mode;
            this.lora = lora;
        }

        /** Train for this many optimizer steps (clears epochs). */
        public Builder steps(int steps) {
            this.steps = steps;
            this.epochs = 0;
            return this;
        }

        /** Train for this many passes over the training windows (clears steps). */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            this.steps = 0;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder seqLen(int v) {
            seqLen = v;
            return this;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        public Builder minLrRatio(double v) {
            minLrRatio = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder betas(double b1, double b2) {
            beta1 = b1;
            beta2 = b2;
            return this;
        }

        public Builder eps(double v) {
            eps = v;
            return this;
        }

        public Builder gradClip(double v) {
            gradClip = v;
            return this;
        }

        public Builder gradAccumulation(int v) {
            gradAccumulation = v;
            return this;
        }

        public Builder evalEvery(int v) {
            evalEvery = v;
            return this;
        }

        public Builder checkpointEvery(int v) {
            checkpointEvery = v;
            return this;
        }

        public Builder heldOutFraction(double v) {
            heldOutFraction = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public TrainSpec build() {
            return new TrainSpec(adapterName, mode, lora, steps, epochs, batchSize, seqLen, learningRate, warmupSteps,
                    minLrRatio, weightDecay, beta1, beta2, eps, gradClip, gradAccumulation, evalEvery,
                    checkpointEvery, heldOutFraction, seed);
        }
    }
}
