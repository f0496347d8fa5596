package io.sparklora.cli;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LinearModule;
import io.sparklora.model.WeightLayout;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * Adapters with non-zero B for the combine and extract tests, and the test's own dense arithmetic: a delta s·B·A as
 * plain loops over the stored row-major arrays, independent of the production merge and SVD code.
 */
final class AdapterFixtures {
    private AdapterFixtures() {
    }

    /** A PEFT adapter of {@code model} with the given rank, targets and alpha, B filled from {@code seed}. */
    static Path adapter(Path model, Path dir, int rank, double alpha, long seed, String... targets) throws Exception {
        BaseModel base = Checkpoints.load(model);
        LoraConfig config = LoraConfig.defaults().withRank(rank).withAlpha(alpha).withTargetModules(List.of(targets))
                .withSeed(seed);
        LoraAdapter adapter = LoraAdapter.initialize(config, base.config());
        for (LoraModule m : adapter.modules().values()) {
            Tensor b = m.loraB().value(); // (out, rank)
            for (int i = 0; i < b.size(); i++) {
                b.set(i, (float) Math.sin(seed * 31 + i * 0.7) * 0.3f);
            }
        }
        PeftAdapters.write(dir, adapter, model.toString());
        return dir;
    }

    /** s·B·A of one module as (out, in), in double. */
    static double[] delta(LoraModule m) {
        int out = m.target().outFeatures();
        int in = m.target().inFeatures();
        int r = m.rank();
        double[] d = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double sum = 0;
                for (int k = 0; k < r; k++) {
                    sum += (double) m.loraB().value().get(o * r + k) * m.loraA().value().get(k * in + i);
                }
                d[o * in + i] = m.scaling() * sum;
            }
        }
        return d;
    }

    /** W_b − W_a of one linear layer as (out, in). */
    static double[] weightDifference(LinearModule m, BaseModel a, BaseModel b) {
        Tensor wa = a.weight(m.weightKey());
        Tensor wb = b.weight(m.weightKey());
        int in = m.inFeatures();
        int out = m.outFeatures();
        double[] d = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                int k = m.layout() == WeightLayout.OUT_IN ? o * in + i : i * out + o;
                d[o * in + i] = (double) wb.get(k) - wa.get(k);
            }
        }
        return d;
    }

    /** ‖x − y‖_F / ‖y‖_F. */
    static double relativeError(double[] x, double[] y) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < x.length; i++) {
            diff += (x[i] - y[i]) * (x[i] - y[i]);
            norm += y[i] * y[i];
        }
        return Math.sqrt(diff / norm);
    }

    static double[] add(double[] x, double wx, double[] y, double wy) {
        double[] s = new double[x.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = wx * x[i] + wy * y[i];
        }
        return s;
    }
}
