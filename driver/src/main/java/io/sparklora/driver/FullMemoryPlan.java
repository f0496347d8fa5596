package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import java.util.Locale;

/**
 * Whether {@code train --full} fits an executor, decided before any task starts. Each full fine-tuning task holds its
 * own copy of every weight plus, per weight, a gradient and AdamW's two moments (4 floats per parameter, 16 bytes),
 * and the activations its batch keeps for the backward pass; the executor also holds the broadcast base once. A run
 * that cannot fit is refused up front with these numbers, rather than dying of OutOfMemoryError mid-stage.
 *
 * <p>The activation figure is an estimate, not a measurement: per layer and token about 16·hidden + 4·ffn floats
 * (the block's inputs, norms, q/k/v, attention output, the MLP's three projections) plus the attention probabilities
 * (heads·seq per token), and the logits with their gradient (2·vocab per token).
 *
 * @param parameters   weights of the model
 * @param perTaskBytes one task: weights, gradients, AdamW m and v, activations
 * @param sharedBytes  the executor's broadcast copy of the base
 * @param tasksAtOnce  tasks an executor runs at once
 * @param availableBytes the executor's memory for them
 */
public record FullMemoryPlan(long parameters, long perTaskBytes, long sharedBytes, int tasksAtOnce,
                             long availableBytes) {
    /** Bytes per parameter a task holds: the weight, its gradient, AdamW's first and second moments. */
    static final int BYTES_PER_PARAMETER = 4 * Float.BYTES;
    /** What Spark reserves of every executor heap (its {@code RESERVED_SYSTEM_MEMORY_BYTES}). */
    static final long SPARK_RESERVED = 300L << 20;

    public long neededBytes() {
        return sharedBytes + tasksAtOnce * perTaskBytes;
    }

    public boolean fits() {
        return neededBytes() <= availableBytes;
    }

    public static long parameters(ModelConfig config) {
        long p = 0;
        for (int[] shape : config.weightShapes().values()) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            p += n;
        }
        return p;
    }

    /** The estimate for {@code tasksAtOnce} tasks of {@code spec} on an executor with {@code availableBytes}. */
    public static FullMemoryPlan of(ModelConfig config, TrainSpec spec, int tasksAtOnce, long availableBytes) {
        long p = parameters(config);
        long tokens = (long) spec.batchSize() * spec.seqLen();
        int ffn = config.fold(LlamaConfig::intermediateSize, Gpt2Config::innerSize);
        int heads = config.fold(LlamaConfig::numAttentionHeads, Gpt2Config::numHeads);
        long perToken = (long) config.numLayers() * (16L * config.hiddenSize() + 4L * ffn
                + (long) heads * spec.seqLen()) + 2L * config.vocabSize();
        long activations = tokens * perToken * Float.BYTES;
        return new FullMemoryPlan(p, p * BYTES_PER_PARAMETER + activations, p * Float.BYTES, tasksAtOnce,
                availableBytes);
    }

    /** Fails with the numbers when the plan does not fit. */
    public void check(String where) {
        if (fits()) {
            return;
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT, "Cannot train --full: %s needs about %s "
                        + "(the broadcast base %s + %d task(s) at once × %s each: %,d parameters × %d bytes for the "
                        + "weights, gradients and AdamW m and v, plus activations of batch × seq) but has %s; use a "
                        + "larger executor memory, fewer cores per executor, or a smaller --batch/--seq",
                where, mib(neededBytes()), mib(sharedBytes), tasksAtOnce, mib(perTaskBytes), parameters,
                BYTES_PER_PARAMETER, mib(availableBytes)));
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
