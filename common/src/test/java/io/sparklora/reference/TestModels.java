package io.sparklora.reference;

import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Tiny models and adapters for the reference tests, built here so they depend on no other helper's factory. */
final class TestModels {
    private TestModels() {
    }

    /** Every tensor of the config's checkpoint, zero-filled, keyed canonically (mutable map of fresh tensors). */
    static Map<String, Tensor> zeros(ModelConfig config) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.weightShapes().forEach((k, shape) -> w.put(k, Tensor.zeros(shape)));
        return w;
    }

    /**
     * A random model: normal(0, std) matrices and biases, norm weights 1 + normal(0, 0.1), so every component
     * (including biases and norm gains) influences the logits.
     */
    static BaseModel random(ModelConfig config, long seed, double std) {
        SplitMix64 rng = new SplitMix64(seed);
        Map<String, Tensor> w = zeros(config);
        for (Map.Entry<String, Tensor> e : w.entrySet()) {
            Tensor t = e.getValue();
            boolean gain = t.rank() == 1 && (e.getKey().endsWith("norm.weight") || e.getKey().contains(".ln_"));
            for (int i = 0; i < t.size(); i++) {
                t.set(i, (float) ((gain ? 1 : 0) + (gain ? 0.1 : std) * rng.nextGaussian()));
            }
        }
        return new BaseModel(config, w);
    }

    /** Sets a 2-D tensor from rows. */
    static void set(Map<String, Tensor> w, String key, double[][] rows) {
        Tensor t = w.get(key);
        int cols = t.dim(1);
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols; c++) {
                t.set(r * cols + c, (float) rows[r][c]);
            }
        }
    }

    /** Sets a 1-D tensor. */
    static void set(Map<String, Tensor> w, String key, double... values) {
        Tensor t = w.get(key);
        for (int i = 0; i < values.length; i++) {
            t.set(i, (float) values[i]);
        }
    }

    /** A LoRA module on {@code target} with normal(0, std) A and B (B non-zero, unlike a fresh adapter). */
    static LoraModule randomModule(LinearModule target, int rank, float alpha, SplitMix64 rng, double std) {
        Tensor a = Tensor.zeros(rank, target.inFeatures());
        Tensor b = Tensor.zeros(target.outFeatures(), rank);
        for (int i = 0; i < a.size(); i++) {
            a.set(i, (float) (std * rng.nextGaussian()));
        }
        for (int i = 0; i < b.size(); i++) {
            b.set(i, (float) (std * rng.nextGaussian()));
        }
        return new LoraModule(target, rank, alpha, alpha / rank, 0f, a, b);
    }

    /** Random LoRA modules on every linear layer whose name is in {@code names}. */
    static List<LoraModule> randomModules(ModelConfig config, List<String> names, int rank, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        List<LoraModule> out = new ArrayList<>();
        for (LinearModule m : config.linearModules()) {
            if (names.contains(m.name())) {
                out.add(randomModule(m, rank, 2f * rank, rng, 0.3));
            }
        }
        return out;
    }

    /** Random token ids in [0, vocab). */
    static int[] tokens(int n, int vocab, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }
}
