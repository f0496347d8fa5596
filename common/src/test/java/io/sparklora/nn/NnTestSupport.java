package io.sparklora.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleSupplier;

/** Random models, adapters, batches and a central-difference gradient checker for the nn tests. */
final class NnTestSupport {
    private NnTestSupport() {
    }

    static FloatBuffer gaussian(SplitMix64 rng, int n, double std) {
        FloatBuffer b = Tensor.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put(i, (float) (rng.nextGaussian() * std));
        }
        return b;
    }

    static Tensor gaussian(SplitMix64 rng, double std, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, (float) (rng.nextGaussian() * std));
        }
        return t;
    }

    /** Random weights over config.weightShapes(); 1-D tensors (norm weights, biases) around 1 and 0. */
    static BaseModel randomBase(ModelConfig config, long seed, double std) {
        SplitMix64 rng = new SplitMix64(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.weightShapes().forEach((key, shape) -> {
            Tensor t = gaussian(rng, shape.length == 1 ? 0.1 : std, shape);
            if (key.endsWith("norm.weight") || key.matches(".*ln_.*weight")) {
                for (int i = 0; i < t.size(); i++) {
                    t.set(i, 1f + t.get(i));
                }
            }
            w.put(key, t);
        });
        return new BaseModel(config, w);
    }

    /** An adapter on the named modules (all when names is null), A and B both random (B nonzero to test the branch). */
    static LoraAdapter randomAdapter(ModelConfig config, Set<String> names, int rank, float dropout, long seed,
                                     double bStd) {
        SplitMix64 rng = new SplitMix64(seed);
        List<LoraModule> modules = new ArrayList<>();
        for (LinearModule m : config.linearModules()) {
            if (names == null || names.contains(m.name())) {
                float alpha = 2f * rank;
                modules.add(new LoraModule(m, rank, alpha, alpha / rank, dropout,
                        gaussian(rng, 0.3, rank, m.inFeatures()), gaussian(rng, bStd, m.outFeatures(), rank)));
            }
        }
        return new LoraAdapter(null, modules);
    }

    /** Next-token batch of random tokens; the last position of each sequence and one more position are IGNORE. */
    static Batch randomBatch(int batch, int seq, int vocab, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        int[] in = new int[batch * seq];
        int[] tg = new int[batch * seq];
        for (int i = 0; i < in.length; i++) {
            in[i] = rng.nextInt(vocab);
            tg[i] = rng.nextInt(vocab);
        }
        for (int b = 0; b < batch; b++) {
            tg[b * seq + seq - 1] = Batch.IGNORE;
        }
        tg[1] = Batch.IGNORE;
        return new Batch(batch, seq, in, tg);
    }

    static double weightedSum(FloatBuffer y, FloatBuffer weights, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) y.get(i) * weights.get(i);
        }
        return s;
    }

    /**
     * Checks analytic gradient entries against central differences of loss() with step h, on `samples` entries of
     * x spread over it (all entries when samples >= n). Tolerance: |num − ana| ≤ rtol·max(|num|, |ana|) + atol·scale,
     * where scale is the largest |ana| of the tensor, so a gradient that is wrong in sign, factor or index fails.
     */
    static void checkGradient(String what, FloatBuffer x, int n, FloatBuffer analytic, DoubleSupplier loss,
                              int samples, float h, double rtol, double atol) {
        double scale = 0;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(analytic.get(i)));
        }
        assertTrue(scale > 0, what + ": analytic gradient is identically zero");
        int step = Math.max(1, n / Math.max(1, samples));
        for (int i = (int) (Math.min(step, n) / 2); i < n; i += step) {
            float orig = x.get(i);
            x.put(i, orig + h);
            double plus = loss.getAsDouble();
            x.put(i, orig - h);
            double minus = loss.getAsDouble();
            x.put(i, orig);
            double num = (plus - minus) / (2.0 * h);
            double ana = analytic.get(i);
            double tol = rtol * Math.max(Math.abs(num), Math.abs(ana)) + atol * scale;
            assertTrue(Math.abs(num - ana) <= tol, what + "[" + i + "]: numeric " + num + " vs analytic " + ana
                    + " (tolerance " + tol + ")");
        }
    }
}
