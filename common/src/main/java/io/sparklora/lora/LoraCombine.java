package io.sparklora.lora;

import io.sparklora.linalg.Svd;
import io.sparklora.model.LinearModule;
import io.sparklora.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Several adapters of one base into one, as PEFT's {@code LoraModel.add_weighted_adapter} defines the three methods
 * (the result has lora_alpha = r, so its scaling is 1 and each input's scaling sᵢ is folded into the tensors):
 * <ul>
 *   <li>{@code cat}: A = [w₁s₁A₁; w₂s₂A₂; …] stacked, B = [B₁ B₂ …] side by side; ΔW = Σ wᵢsᵢBᵢAᵢ exactly, rank Σ rᵢ.
 *       A module missing from some inputs takes the others' (PEFT skips absent adapters per module). A tree path is
 *       the same operation with every weight 1.</li>
 *   <li>{@code linear}: A = Σ √(wᵢsᵢ)·Aᵢ, B = Σ √(wᵢsᵢ)·Bᵢ, which needs equal ranks and, here, the same modules in
 *       every input. Not the weighted sum of the deltas (cross terms BᵢAⱼ appear) — PEFT's definition.</li>
 *   <li>{@code svd}: the best rank-R approximation (Eckart–Young) of ΔW = Σ wᵢsᵢBᵢAᵢ, A = Vᵣᵀ, B = Uᵣ·diag(sᵣ); R
 *       defaults to the largest input rank. PEFT's code multiplies {@code get_delta_weight}, which already carries
 *       sᵢ, by wᵢsᵢ; we scale once, so that at full rank svd reproduces cat's delta.</li>
 * </ul>
 */
public final class LoraCombine {
    /** An adapter with, per module, the relative Frobenius error ‖ΔW − ΔŴ‖/‖ΔW‖ of an svd truncation (0 if exact). */
    public record Result(LoraAdapter adapter, Map<String, Double> relativeError) {
        public double maxRelativeError() {
            return relativeError.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    private LoraCombine() {
    }

    /** Concatenation: exact, ranks add. */
    public static LoraAdapter cat(List<LoraAdapter> adapters, double[] weights) {
        check(adapters, weights, "cat");
        List<LoraModule> out = new ArrayList<>();
        for (String path : modulePaths(adapters)) {
            List<LoraModule> ms = new ArrayList<>();
            List<Double> ws = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                LoraModule m = adapters.get(i).module(path);
                if (m != null) {
                    ms.add(m);
                    ws.add(weights[i]);
                }
            }
            LinearModule t = ms.get(0).target();
            int rank = ms.stream().mapToInt(LoraModule::rank).sum();
            int in = t.inFeatures();
            int outF = t.outFeatures();
            Tensor a = Tensor.zeros(rank, in); // (Σ r, in)
            Tensor b = Tensor.zeros(outF, rank); // (out, Σ r)
            int row = 0;
            for (int j = 0; j < ms.size(); j++) {
                LoraModule m = ms.get(j);
                float f = (float) (ws.get(j) * m.scaling());
                int r = m.rank();
                for (int k = 0; k < r * in; k++) {
                    a.set(row * in + k, f * m.loraA().value().get(k));
                }
                for (int o = 0; o < outF; o++) {
                    for (int k = 0; k < r; k++) {
                        b.set(o * rank + row + k, m.loraB().value().get(o * r + k));
                    }
                }
                row += r;
            }
            out.add(unitScaled(t, rank, ms.get(0).dropout(), a, b));
        }
        return new LoraAdapter(null, out);
    }

    /** PEFT's linear combination of the factors: equal ranks, the same modules, wᵢsᵢ ≥ 0. */
    public static LoraAdapter linear(List<LoraAdapter> adapters, double[] weights) {
        check(adapters, weights, "linear");
        Set<String> first = adapters.get(0).modules().keySet();
        for (int i = 1; i < adapters.size(); i++) {
            Set<String> other = adapters.get(i).modules().keySet();
            if (!other.equals(first)) {
                Set<String> onlyFirst = new LinkedHashSet<>(first);
                onlyFirst.removeAll(other);
                Set<String> onlyOther = new LinkedHashSet<>(other);
                onlyOther.removeAll(first);
                throw new IllegalArgumentException("Cannot combine adapters with linear: adapter 1 and adapter "
                        + (i + 1) + " adapt different modules (only in 1: " + onlyFirst + ", only in " + (i + 1) + ": "
                        + onlyOther + "); use cat or svd");
            }
        }
        List<LoraModule> out = new ArrayList<>();
        for (String path : first) {
            LoraModule m0 = adapters.get(0).module(path);
            Tensor a = Tensor.zeros(m0.rank(), m0.target().inFeatures()); // (rank, in)
            Tensor b = Tensor.zeros(m0.target().outFeatures(), m0.rank()); // (out, rank)
            for (int i = 0; i < adapters.size(); i++) {
                LoraModule m = adapters.get(i).module(path);
                if (m.rank() != m0.rank()) {
                    throw new IllegalArgumentException("Cannot combine adapters with linear: module " + path
                            + " has rank " + m0.rank() + " in adapter 1 and " + m.rank() + " in adapter " + (i + 1)
                            + "; linear needs equal ranks (use cat or svd)");
                }
                double ws = weights[i] * m.scaling();
                if (ws < 0) {
                    throw new IllegalArgumentException("Cannot combine adapters with linear: weight " + weights[i]
                            + " of adapter " + (i + 1) + " is negative; linear takes √(weight·scaling) (use cat or svd)");
                }
                float f = (float) Math.sqrt(ws);
                axpy(f, m.loraA().value(), a);
                axpy(f, m.loraB().value(), b);
            }
            out.add(unitScaled(m0.target(), m0.rank(), m0.dropout(), a, b));
        }
        return new LoraAdapter(null, out);
    }

    /** The best rank-{@code rank} approximation of the weighted sum of the deltas (null rank: the largest input rank). */
    public static Result svd(List<LoraAdapter> adapters, double[] weights, Integer rank) {
        check(adapters, weights, "svd");
        int r = rank != null ? rank : adapters.stream().flatMap(a -> a.modules().values().stream())
                .mapToInt(LoraModule::rank).max().orElseThrow();
        if (r < 1) {
            throw new IllegalArgumentException("Cannot combine adapters with svd: rank " + r + " must be >= 1");
        }
        return truncate(cat(adapters, weights), r, "combine adapters with svd");
    }

    /**
     * Each module of {@code adapter} (scaling folded in) truncated to rank min(r, its rank) by SVD of its delta;
     * {@code action} names the operation in errors.
     */
    public static Result truncate(LoraAdapter adapter, int r, String action) {
        List<LoraModule> out = new ArrayList<>();
        Map<String, Double> errors = new LinkedHashMap<>();
        for (LoraModule m : adapter.modules().values()) {
            LinearModule t = m.target();
            int limit = Math.min(t.inFeatures(), t.outFeatures());
            if (r > limit) {
                throw new IllegalArgumentException("Cannot " + action + ": rank " + r + " exceeds min(in, out) = "
                        + limit + " of module " + t.path());
            }
            double[] b = toDouble(m.loraB().value(), m.scaling()); // (out, rank) · s
            double[] a = toDouble(m.loraA().value(), 1); // (rank, in)
            Svd svd = Svd.ofProduct(b, a, t.outFeatures(), m.rank(), t.inFeatures());
            int keep = Math.min(r, svd.k());
            Svd kept = svd.truncate(keep);
            double norm = svd.norm();
            errors.put(t.path(), norm == 0 ? 0 : svd.tailNorm(keep) / norm);
            out.add(fromSvd(t, kept, m.dropout()));
        }
        return new Result(new LoraAdapter(null, out), errors);
    }

    /** A module holding U·diag(s) as B and Vᵀ as A, lora_alpha = rank (scaling 1). */
    static LoraModule fromSvd(LinearModule t, Svd svd, float dropout) {
        int k = svd.k();
        int in = t.inFeatures();
        int outF = t.outFeatures();
        Tensor a = Tensor.zeros(k, in); // (k, in) = Vᵀ
        Tensor b = Tensor.zeros(outF, k); // (out, k) = U·diag(s)
        for (int j = 0; j < in; j++) {
            for (int i = 0; i < k; i++) {
                a.set(i * in + j, (float) svd.v()[j * k + i]);
            }
        }
        for (int o = 0; o < outF; o++) {
            for (int i = 0; i < k; i++) {
                b.set(o * k + i, (float) (svd.u()[o * k + i] * svd.s()[i]));
            }
        }
        return unitScaled(t, k, dropout, a, b);
    }

    private static LoraModule unitScaled(LinearModule t, int rank, float dropout, Tensor a, Tensor b) {
        return new LoraModule(t, rank, rank, 1f, dropout, a, b);
    }

    private static void check(List<LoraAdapter> adapters, double[] weights, String method) {
        String cannot = "Cannot combine adapters with " + method + ": ";
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException(cannot + "no adapters given");
        }
        if (weights.length != adapters.size()) {
            throw new IllegalArgumentException(cannot + weights.length + " weights for " + adapters.size()
                    + " adapters");
        }
        for (double w : weights) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException(cannot + "weight " + w + " is not a finite number");
            }
        }
        Map<String, LinearModule> seen = new LinkedHashMap<>();
        for (int i = 0; i < adapters.size(); i++) {
            for (LoraModule m : adapters.get(i).modules().values()) {
                LinearModule prev = seen.putIfAbsent(m.target().path(), m.target());
                if (prev != null && !prev.equals(m.target())) {
                    throw new IllegalArgumentException(cannot + "module " + m.target().path() + " of adapter "
                            + (i + 1) + " is " + m.target() + ", an earlier adapter's is " + prev
                            + " (adapters of different base models)");
                }
            }
        }
    }

    /** Every module path of the inputs, in first-seen order. */
    private static Set<String> modulePaths(List<LoraAdapter> adapters) {
        Set<String> paths = new LinkedHashSet<>();
        adapters.forEach(a -> paths.addAll(a.modules().keySet()));
        return paths;
    }

    private static void axpy(float f, Tensor x, Tensor y) {
        for (int i = 0; i < x.size(); i++) {
            y.set(i, y.get(i) + f * x.get(i));
        }
    }

    private static double[] toDouble(Tensor t, double f) {
        double[] out = new double[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = f * t.get(i);
        }
        return out;
    }
}
