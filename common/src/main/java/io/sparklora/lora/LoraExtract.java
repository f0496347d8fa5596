package io.sparklora.lora;

import io.sparklora.linalg.Svd;
import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A fully fine-tuned model back into the best rank-r LoRA adapter of its base: for every linear layer of the blocks,
 * ΔW = W_tuned − W_base (as (out, in), transposing GPT-2's Conv1D weights), truncated SVD ΔW ≈ Uᵣ·diag(sᵣ)·Vᵣᵀ, A = Vᵣᵀ,
 * B = Uᵣ·diag(sᵣ), lora_alpha = r (scaling 1); a layer narrower than r (grouped-query k/v) keeps its full rank, written
 * as PEFT's rank_pattern. By Eckart–Young no rank-r adapter is closer in the Frobenius norm. What
 * LoRA cannot hold — changed norms, embeddings, LM head, biases — is reported, not silently dropped.
 */
public final class LoraExtract {
    /**
     * The adapter, per module the relative error ‖ΔW − ΔŴ‖/‖ΔW‖ (0 for an unchanged weight), and the other tensors
     * that differ between the models, with their largest absolute difference.
     */
    public record Result(LoraAdapter adapter, Map<String, Double> relativeError, Map<String, Double> notExtracted) {
        public double maxRelativeError() {
            return relativeError.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    private LoraExtract() {
    }

    public static Result extract(BaseModel base, BaseModel tuned, int rank) {
        String cannot = "Cannot extract adapter: ";
        if (!base.config().weightShapes().keySet().equals(tuned.config().weightShapes().keySet())
                || !base.config().modelType().equals(tuned.config().modelType())) {
            throw new IllegalArgumentException(cannot + "the tuned model (" + tuned.config().modelType() + ", "
                    + tuned.config().weightShapes().size() + " tensors) is not of the base's architecture ("
                    + base.config().modelType() + ", " + base.config().weightShapes().size() + " tensors)");
        }
        for (Map.Entry<String, int[]> e : base.config().weightShapes().entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), tuned.config().weightShapes().get(e.getKey()))) {
                throw new IllegalArgumentException(cannot + "tensor " + e.getKey() + " has shape "
                        + java.util.Arrays.toString(tuned.config().weightShapes().get(e.getKey()))
                        + " in the tuned model and " + java.util.Arrays.toString(e.getValue()) + " in the base");
            }
        }
        List<LinearModule> linears = new ArrayList<>();
        for (LinearModule m : base.config().linearModules()) {
            if (m.layer() >= 0) {
                linears.add(m);
            }
        }
        int limit = linears.stream().mapToInt(m -> Math.min(m.inFeatures(), m.outFeatures())).max().orElseThrow();
        if (rank < 1 || rank > limit) {
            throw new IllegalArgumentException(cannot + "rank " + rank + " must be between 1 and " + limit
                    + " (the largest min(in, out) of the linear layers; a smaller layer keeps its full rank)");
        }
        List<LoraModule> modules = new ArrayList<>();
        Map<String, Double> errors = new LinkedHashMap<>();
        Set<String> covered = new HashSet<>();
        for (LinearModule m : linears) {
            covered.add(m.weightKey());
            double[] delta = delta(m, base.weight(m.weightKey()), tuned.weight(m.weightKey())); // (out, in)
            Svd svd = Svd.of(delta, m.outFeatures(), m.inFeatures());
            double norm = svd.norm();
            int keep = Math.min(rank, Math.min(m.inFeatures(), m.outFeatures())); // GQA's k/v are narrower than q
            errors.put(m.path(), norm == 0 ? 0 : svd.tailNorm(keep) / norm);
            modules.add(LoraCombine.fromSvd(m, svd.truncate(keep), 0f));
        }
        Map<String, Double> other = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : base.weights().entrySet()) {
            if (covered.contains(e.getKey())) {
                continue;
            }
            Tensor b = e.getValue();
            Tensor t = tuned.weight(e.getKey());
            double max = 0;
            for (int i = 0; i < b.size(); i++) {
                max = Math.max(max, Math.abs((double) t.get(i) - b.get(i)));
            }
            if (max > 0) {
                other.put(e.getKey(), max);
            }
        }
        return new Result(new LoraAdapter(null, modules), errors, other);
    }

    /** W_tuned − W_base as (out, in) in double. */
    private static double[] delta(LinearModule m, Tensor base, Tensor tuned) {
        int in = m.inFeatures();
        int out = m.outFeatures();
        double[] d = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                int k = m.layout() == WeightLayout.OUT_IN ? o * in + i : i * out + o;
                d[o * in + i] = (double) tuned.get(k) - base.get(k);
            }
        }
        return d;
    }
}
