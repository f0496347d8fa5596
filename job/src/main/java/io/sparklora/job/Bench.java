package io.sparklora.job;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.tensor.Blas;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The training-speed benchmark behind {@code spark-lora bench}: real {@link AdapterTrainer} steps (forward, backward,
 * clipping, AdamW) of a LoRA adapter (r = 8, α = 16 on q_proj and v_proj) over a randomly initialised LLaMA with the
 * byte vocabulary, and in the same run the sgemm rate at the model's own GEMM shapes, so that the ratio (MFU) is
 * comparable across machines and noisy neighbours.
 *
 * <p>Every time is taken twice: on the wall clock, and as the CPU time of the calling thread, which runs the whole step
 * at one BLAS thread (OpenBLAS computes in its caller). On a machine shared with other work the wall figures measure
 * the share of a core the scheduler gave us; the CPU figures ({@code cpu_*}) measure the code, and stay comparable
 * between runs. At more than one thread only the wall figures count: the other BLAS threads' time is not the caller's.
 *
 * <p>Model FLOPs per step (issue 3): 4 × (parameters of all frozen linear layers, LM head included) × tokens
 * + 12 × layers × batch × seq² × dim for attention scores, forward and backward.
 */
public final class Bench {
    /** The MISSION.md presets, and one dim-512 block alone ({@code layer}) for per-layer figures. */
    public enum Preset {
        tiny(256, 4, 4, 688, 128, 8, 12),
        small(512, 8, 8, 1376, 256, 4, 6),
        layer(512, 1, 8, 1376, 256, 4, 12);

        final int dim;
        final int layers;
        final int heads;
        final int ffn;
        final int seq;
        final int batch;
        final int steps; // measured steps, after two warm-up steps

        Preset(int dim, int layers, int heads, int ffn, int seq, int batch, int steps) {
            this.dim = dim;
            this.layers = layers;
            this.heads = heads;
            this.ffn = ffn;
            this.seq = seq;
            this.batch = batch;
            this.steps = steps;
        }

        /** The preset's own batch size. */
        public int batch() {
            return batch;
        }

        LlamaConfig config() {
            return new LlamaConfig(256, dim, ffn, layers, heads, heads, dim / heads, seq, 1e-6, 10000.0, false, false,
                    false, 0.02);
        }
    }

    /**
     * One benchmark run.
     *
     * @param threads           BLAS threads the run used
     * @param stepSeconds       median seconds of a training step
     * @param shapesSgemmGflops sgemm GFLOP/s over the model's own GEMM shapes
     * @param squareSgemmGflops sgemm GFLOP/s of one square product of side {@link Bench#SQUARE}
     * @param peakSgemmGflops   the larger of the two: the same library's peak in the same run
     * @param cpuStepSeconds    median CPU seconds of the calling thread per step
     * @param cpuPeakSgemmGflops the peak timed on the same thread's CPU clock
     */
    public record Result(Preset preset, String ompNumThreads, int threads, double stepSeconds, double tokensPerSecond,
                         double modelGflops, double shapesSgemmGflops, double squareSgemmGflops,
                         double peakSgemmGflops, double cpuStepSeconds, double cpuPeakSgemmGflops) {
        public Result {
            if (threads < 1 || !(stepSeconds > 0) || !(cpuStepSeconds > 0) || !(cpuPeakSgemmGflops > 0)
                    || !(peakSgemmGflops >= shapesSgemmGflops)
                    || !(peakSgemmGflops >= squareSgemmGflops)) {
                throw new IllegalArgumentException("Cannot report bench: threads ≥ 1, step > 0 and peak ≥ each "
                        + "sgemm rate expected, got " + threads + ", " + stepSeconds + ", " + peakSgemmGflops);
            }
        }

        /** Model GFLOP/s over the same run's sgemm peak. */
        public double mfu() {
            return modelGflops / peakSgemmGflops;
        }

        /** Tokens per CPU second of the training thread. */
        public double cpuTokensPerSecond() {
            return tokensPerSecond * stepSeconds / cpuStepSeconds;
        }

        /** Model GFLOP/s over the peak, both on the thread's CPU clock: MFU with the neighbours' load taken out. */
        public double cpuMfu() {
            return modelGflops * stepSeconds / cpuStepSeconds / cpuPeakSgemmGflops;
        }

        /** Model GFLOP/s over sgemm at the model's own shapes (the ratio bench reported before the peak). */
        public double shapesRatio() {
            return modelGflops / shapesSgemmGflops;
        }

        /** One JSON line with the keys other tools compare. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"preset\": \"%s\", \"omp_num_threads\": \"%s\", \"threads\": %d, "
                            + "\"step_s\": %.4f, \"tokens_per_s\": %.1f, \"model_gflops\": %.2f, "
                            + "\"sgemm_gflops\": %.2f, \"square_sgemm_gflops\": %.2f, \"peak_sgemm_gflops\": %.2f, "
                            + "\"mfu\": %.4f, \"model_over_shapes_sgemm\": %.4f, \"cpu_step_s\": %.4f, "
                            + "\"cpu_tokens_per_s\": %.1f, \"cpu_peak_sgemm_gflops\": %.2f, \"cpu_mfu\": %.4f}",
                    preset, ompNumThreads, threads, stepSeconds, tokensPerSecond, modelGflops, shapesSgemmGflops,
                    squareSgemmGflops, peakSgemmGflops, mfu(), shapesRatio(), cpuStepSeconds, cpuTokensPerSecond(),
                    cpuPeakSgemmGflops, cpuMfu());
        }
    }

    /** Side of the square sgemm that stands for the library's peak. */
    public static final int SQUARE = 2048;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private Bench() {
    }

    /** A GFLOP/s figure on both clocks. */
    public record Rate(double wall, double cpu) {
    }

    /** CPU nanoseconds of the calling thread. */
    private static long cpuNanos() {
        return THREADS.getCurrentThreadCpuTime();
    }

    /**
     * Sets {@code threads} BLAS threads, trains the preset's adapter for warm-up + measured steps and measures sgemm at
     * its shapes and at {@value #SQUARE}³ with the same library.
     */
    public static Result run(Preset preset, int threads) {
        Blas.setThreads(threads);
        LlamaConfig c = preset.config();
        BaseModel base = Checkpoints.random(c, 1);
        LoraConfig lora = LoraConfig.defaults().withRank(8).withAlpha(16).withTargetModules(List.of("q_proj", "v_proj"));
        LoraAdapter adapter = LoraAdapter.initialize(lora, c);
        int warmup = 2;
        TrainSpec spec = TrainSpec.lora("bench-" + preset, lora).steps(warmup + preset.steps).batchSize(preset.batch)
                .seqLen(preset.seq).learningRate(1e-3).warmupSteps(0).evalEvery(0).seed(1).build();
        double[] stepSeconds = new double[preset.steps];
        double[] cpuSeconds = new double[preset.steps];
        long[] lastCpu = {cpuNanos()};
        AdapterTrainer trainer = AdapterTrainer.lora(spec, base, adapter, randomData(preset, warmup + preset.steps))
                .onProgress(r -> {
                    long now = cpuNanos();
                    if (r.step() > warmup) {
                        stepSeconds[r.step() - warmup - 1] = spec.tokensPerStep() / r.tokensPerSecond();
                        cpuSeconds[r.step() - warmup - 1] = (now - lastCpu[0]) / 1e9;
                    }
                    lastCpu[0] = now;
                });
        trainer.run();
        double step = median(stepSeconds);
        double modelGflops = modelFlops(c, preset.batch, preset.seq) / step / 1e9;
        Rate shapes = sgemmGflops(c, preset.batch * preset.seq);
        Rate square = squareSgemmGflops(SQUARE);
        String omp = System.getenv().getOrDefault("OMP_NUM_THREADS", "unset");
        return new Result(preset, omp, Blas.threads(), step, spec.tokensPerStep() / step, modelGflops, shapes.wall(),
                square.wall(), Math.max(shapes.wall(), square.wall()), median(cpuSeconds),
                Math.max(shapes.cpu(), square.cpu()));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** FLOPs of one LoRA training step by the count (frozen linear layers forward and input-gradient). */
    public static double modelFlops(LlamaConfig c, int batch, int seq) {
        double linear = (double) c.vocabSize() * c.hiddenSize(); // LM head
        for (LinearModule m : c.linearModules()) {
            linear += (double) m.inFeatures() * m.outFeatures();
        }
        double tokens = (double) batch * seq;
        return 4 * linear * tokens + 12.0 * c.numHiddenLayers() * batch * (double) seq * seq * c.hiddenSize();
    }

    /** Random byte windows: throughput does not depend on what the tokens say. */
    private static PackedData randomData(Preset p, int steps) {
        return randomData(new SplitMix64(7), steps * p.batch, p.seq, 1);
    }

    /** {@code windows} random training windows of seq tokens and {@code heldOut} held-out ones from rng. */
    static PackedData randomData(SplitMix64 rng, int windows, int seq, int heldOutWindows) {
        List<Window> train = new ArrayList<>();
        for (int i = 0; i < windows; i++) {
            train.add(randomWindow(rng, seq));
        }
        List<Window> heldOut = new ArrayList<>();
        for (int i = 0; i < heldOutWindows; i++) {
            heldOut.add(randomWindow(rng, seq));
        }
        int count = train.size() + heldOut.size();
        long tokens = (long) count * seq;
        return new PackedData(train, heldOut, count, tokens, tokens - count);
    }

    private static Window randomWindow(SplitMix64 rng, int seq) {
        int[] tokens = new int[seq + 1];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(256);
        }
        int[] targets = Arrays.copyOfRange(tokens, 1, seq + 1);
        targets[seq - 1] = io.sparklora.model.Batch.IGNORE;
        return new Window(Arrays.copyOf(tokens, seq), targets);
    }

    /**
     * Best-of-ten sgemm GFLOP/s over the step's projection shapes: for every linear layer of a block and the head, the
     * forward product (rows × out × in, x·Wᵀ) and the input-gradient product (rows × in × out, dy·W), on direct
     * buffers, as the model calls them.
     */
    public static Rate sgemmGflops(LlamaConfig c, int rows) {
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        int[][] shapes = {{d, d}, {d, d}, {d, d}, {d, d}, {d, f}, {d, f}, {f, d}}; // (in, out) per block
        int maxIn = Math.max(d, f);
        FloatBuffer x = Tensor.allocate(rows * maxIn); // (rows, in)
        FloatBuffer y = Tensor.allocate(rows * Math.max(maxIn, c.vocabSize())); // (rows, out)
        FloatBuffer w = Tensor.allocate(Math.max(d * f, c.vocabSize() * d)); // (out, in)
        double flops = 0;
        long best = Long.MAX_VALUE;
        long bestCpu = Long.MAX_VALUE;
        for (int rep = 0; rep < 10; rep++) {
            long t0 = System.nanoTime();
            long c0 = cpuNanos();
            flops = 0;
            for (int[] s : shapes) {
                Blas.gemmNT(rows, s[1], s[0], 1f, x, 0, s[0], w, 0, s[0], 0f, y, 0, s[1]);
                Blas.gemmNN(rows, s[0], s[1], 1f, y, 0, s[1], w, 0, s[0], 0f, x, 0, s[0]);
                flops += 4.0 * rows * s[0] * s[1];
            }
            Blas.gemmNT(rows, c.vocabSize(), d, 1f, x, 0, d, w, 0, d, 0f, y, 0, c.vocabSize());
            Blas.gemmNN(rows, d, c.vocabSize(), 1f, y, 0, c.vocabSize(), w, 0, d, 0f, x, 0, d);
            flops += 4.0 * rows * d * c.vocabSize();
            best = Math.min(best, System.nanoTime() - t0);
            bestCpu = Math.min(bestCpu, cpuNanos() - c0);
        }
        return new Rate(flops / best, flops / bestCpu);
    }

    /** Best-of-three GFLOP/s of one n×n×n sgemm on direct buffers. */
    public static Rate squareSgemmGflops(int n) {
        FloatBuffer a = Tensor.allocate(n * n); // (n, n)
        FloatBuffer b = Tensor.allocate(n * n); // (n, n)
        FloatBuffer out = Tensor.allocate(n * n); // (n, n)
        long best = Long.MAX_VALUE;
        long bestCpu = Long.MAX_VALUE;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            long c0 = cpuNanos();
            Blas.gemmNN(n, n, n, 1f, a, 0, n, b, 0, n, 0f, out, 0, n);
            best = Math.min(best, System.nanoTime() - t0);
            bestCpu = Math.min(bestCpu, cpuNanos() - c0);
        }
        double flops = 2.0 * n * n * (double) n;
        return new Rate(flops / best, flops / bestCpu);
    }
}
