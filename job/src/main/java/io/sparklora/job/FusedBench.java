package io.sparklora.job;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.tensor.Blas;
import io.sparklora.util.SplitMix64;
import java.lang.management.BufferPoolMXBean;
import java.lang.ref.Reference;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * {@code bench --adapters K}: aggregate training tokens/s of K adapters trained fused ({@link FusedAdapterTrainer})
 * against the same K trained one after another ({@link AdapterTrainer}) over the same base, in the same run. The two
 * alternate round by round (the first round warms the JIT and is not counted) and each figure is the median of the
 * rounds, on the wall clock and on the thread's CPU clock (comparable on a shared machine). Only steady-state steps
 * count: each run's first step (which allocates a new model's activation buffers) is not timed. Memory per adapter is the
 * direct (off-heap) memory a run adds over the base, divided by K: adapter tensors, optimizer state and activations.
 */
public final class FusedBench {
    /** Counted rounds, after one warm-up round. */
    static final int ROUNDS = 5;
    /** Optimizer steps per adapter in each run. */
    static final int STEPS = 6;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private FusedBench() {
    }

    /**
     * One shape's figures.
     *
     * @param fusedTokensPerSecond      aggregate tokens/s of the fused run, wall clock (median)
     * @param sequentialTokensPerSecond aggregate tokens/s of the K adapters one after another, wall clock (median)
     * @param gain                      median over rounds of fused / sequential on the wall clock
     * @param gainMin                   smallest round's wall ratio
     * @param gainMax                   largest round's wall ratio
     * @param cpuGain                   median over rounds of the same ratio on the thread's CPU clock
     * @param fusedMibPerAdapter        direct memory of the fused run over the base, per adapter
     * @param sequentialMib             direct memory of one adapter trained alone over the base
     */
    public record Result(Bench.Preset preset, int adapters, int batch, int seq, double fusedTokensPerSecond,
                         double sequentialTokensPerSecond, double gain, double gainMin, double gainMax,
                         double cpuGain, double fusedMibPerAdapter, double sequentialMib) {
        public String toJson() {
            return String.format(Locale.ROOT, "{\"preset\": \"%s\", \"adapters\": %d, \"batch\": %d, \"seq\": %d, "
                            + "\"fused_tokens_per_s\": %.1f, \"sequential_tokens_per_s\": %.1f, \"fused_gain\": %.3f, "
                            + "\"fused_gain_min\": %.3f, \"fused_gain_max\": %.3f, \"cpu_fused_gain\": %.3f, "
                            + "\"fused_mib_per_adapter\": %.2f, \"sequential_mib\": %.2f, \"rounds\": %d}",
                    preset, adapters, batch, seq, fusedTokensPerSecond, sequentialTokensPerSecond, gain, gainMin,
                    gainMax, cpuGain, fusedMibPerAdapter, sequentialMib, ROUNDS);
        }
    }

    /** Fused against sequential for K adapters of the preset at batch × the preset's seq, one BLAS thread. */
    public static Result run(Bench.Preset preset, int adapters, int batch) {
        if (adapters < 1 || batch < 1) {
            throw new IllegalArgumentException("Cannot run the fused bench: adapters and batch must be ≥ 1, got "
                    + adapters + " and " + batch);
        }
        Blas.setThreads(1);
        LlamaConfig c = preset.config();
        BaseModel base = Checkpoints.random(c, 1);
        LoraConfig lora = LoraConfig.defaults().withRank(8).withAlpha(16).withTargetModules(List.of("q_proj", "v_proj"));
        List<TrainSpec> specs = new ArrayList<>();
        List<PackedData> data = new ArrayList<>();
        for (int k = 0; k < adapters; k++) {
            specs.add(TrainSpec.lora("bench-" + k, lora.withSeed(k)).steps(STEPS).batchSize(batch)
                    .seqLen(preset.seq).learningRate(1e-3).warmupSteps(0).evalEvery(0).seed(k).build());
            data.add(Bench.randomData(new SplitMix64(7 + k), STEPS * batch, preset.seq, 0));
        }
        double tokens = (double) adapters * (STEPS - 1) * batch * preset.seq; // step 1 allocates: not timed
        double[] fused = new double[ROUNDS];
        double[] sequential = new double[ROUNDS];
        double[] ratio = new double[ROUNDS];
        double[] cpuRatio = new double[ROUNDS];
        for (int round = -1; round < ROUNDS; round++) {
            long[] f = new long[2];
            new FusedAdapterTrainer(base, specs, fresh(specs, c), data).onStep(steady(f)).run();
            long[] s = new long[2];
            for (int k = 0; k < adapters; k++) {
                IntConsumer alone = steady(s);
                AdapterTrainer.lora(specs.get(k), base, LoraAdapter.initialize(specs.get(k).lora(), c), data.get(k))
                        .onProgress(r -> alone.accept(r.step())).run();
            }
            if (round >= 0) {
                fused[round] = tokens / (f[0] / 1e9);
                sequential[round] = tokens / (s[0] / 1e9);
                ratio[round] = (double) s[0] / f[0];
                cpuRatio[round] = (double) s[1] / f[1];
            }
        }
        double mib = 1024.0 * 1024.0;
        double fusedBytes = directBytesOf(() -> trainFused(base, specs, data));
        double aloneBytes = directBytesOf(() -> trainAlone(base, specs.get(0), data.get(0)));
        return new Result(preset, adapters, batch, preset.seq, median(fused), median(sequential), median(ratio),
                Arrays.stream(ratio).min().orElseThrow(), Arrays.stream(ratio).max().orElseThrow(), median(cpuRatio),
                fusedBytes / mib / adapters, aloneBytes / mib);
    }

    /** Trains the K adapters fused; returns the trainer, which holds the model, the adapters and their state. */
    private static Object trainFused(BaseModel base, List<TrainSpec> specs, List<PackedData> data) {
        FusedAdapterTrainer trainer = new FusedAdapterTrainer(base, specs, fresh(specs, (LlamaConfig) base.config()),
                data);
        trainer.run();
        return trainer;
    }

    /** Trains one adapter alone; returns its trainer (model, adapter, optimizer state). */
    private static Object trainAlone(BaseModel base, TrainSpec spec, PackedData data) {
        AdapterTrainer trainer = AdapterTrainer.lora(spec, base, LoraAdapter.initialize(spec.lora(), base.config()),
                data);
        trainer.run();
        return trainer;
    }

    private static List<LoraAdapter> fresh(List<TrainSpec> specs, LlamaConfig c) {
        List<LoraAdapter> out = new ArrayList<>();
        specs.forEach(s -> out.add(LoraAdapter.initialize(s.lora(), c)));
        return out;
    }

    /**
     * A step listener that adds the wall and CPU nanoseconds of every step after the first into {@code total}: the
     * first step allocates the activation buffers of a new model, the steady state is what a long run sees.
     */
    private static IntConsumer steady(long[] total) {
        long[] last = {System.nanoTime(), THREADS.getCurrentThreadCpuTime()};
        return step -> {
            long wall = System.nanoTime();
            long cpu = THREADS.getCurrentThreadCpuTime();
            if (step > 1) {
                total[0] += wall - last[0];
                total[1] += cpu - last[1];
            }
            last[0] = wall;
            last[1] = cpu;
        };
    }

    /**
     * Direct (off-heap) bytes the trainer {@code work} returns still holds after a collection, over what was held
     * before it: its adapters, optimizer state and activation buffers (garbage of the run itself is not counted).
     */
    private static long directBytesOf(Supplier<Object> work) {
        settle();
        long before = directBytes();
        Object held = work.get();
        settle();
        long bytes = directBytes() - before;
        Reference.reachabilityFence(held);
        return bytes;
    }

    /** A collection, and time for the cleaner thread to free the direct buffers it found unreachable. */
    private static void settle() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Cannot measure memory: interrupted", e);
            }
        }
    }

    private static long directBytes() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getMemoryUsed();
            }
        }
        return 0;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
