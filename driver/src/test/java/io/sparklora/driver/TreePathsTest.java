package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.eval.Scorer;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraCombine;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.nn.CausalLms;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree path flattened into one adapter ({@link TreePaths#flatten}) against two oracles: the node adapters applied
 * together as training applies them (ancestors merged, the leaf as a LoRA branch: {@link TreeTask#merged}), and an
 * independent naive sum of the deltas Σ sᵢ·Bᵢ·Aᵢ per layer written into the weights with plain loops here.
 */
class TreePathsTest {
    static final LlamaConfig TINY = new LlamaConfig(256, 32, 64, 2, 4, 2, 8, 64, 1e-5, 10000, false, false, false,
            0.2);
    static final int[] TEXT = ("the tree of adapters: root, romance, es. la casa es grande y el perro es negro. "
            + "il cane e nero.").chars().toArray();

    /** Ranks 2, 3, 4 with different alphas, one rsLoRA: scalings 8, 2/√3·… all folded into the path. */
    static List<LoraAdapter> nodes(BaseModel base) {
        LoraConfig all = LoraConfig.defaults().withTargetModules(List.of("all-linear"));
        List<LoraConfig> configs = List.of(all.withRank(2).withAlpha(16).withSeed(1),
                all.withRank(3).withAlpha(4).withSeed(2), all.withRank(4).withAlpha(8).withRslora().withSeed(3));
        Random rng = new Random(11);
        return configs.stream().map(c -> {
            LoraAdapter a = LoraAdapter.initialize(c, base.config());
            for (LoraModule m : a.modules().values()) { // B starts at 0: give every node a delta
                Tensor b = m.loraB().value();
                for (int i = 0; i < b.size(); i++) {
                    b.set(i, (float) (0.05 * rng.nextGaussian()));
                }
            }
            return a;
        }).toList();
    }

    static double score(io.sparklora.model.CausalLm lm) {
        return new Scorer(64).score(lm, TEXT, "text").meanLoss();
    }

    @Test
    void flattenedPathScoresLikeItsNodesAppliedTogetherAndLikeANaiveSumOfDeltas(@TempDir Path tmp) throws Exception {
        BaseModel base = Checkpoints.random(TINY, 7);
        List<LoraAdapter> nodes = nodes(base);
        LoraAdapter path = TreePaths.flatten(nodes, null).adapter();
        // the path written as PEFT files and read back: what vLLM or serve load
        PeftAdapters.write(tmp.resolve("path"), path, "base");
        LoraAdapter loaded = PeftAdapters.read(tmp.resolve("path"), base.config());
        for (LoraModule m : loaded.modules().values()) {
            assertEquals(2 + 3 + 4, m.rank(), m.target().path());
        }
        double viaPath = score(CausalLms.withAdapter(base, loaded));

        // oracle 1: the leaf trained over its ancestors, merged into a copy (TreeTask's model)
        double asTrained = score(CausalLms.withAdapter(TreeTask.merged(base, nodes.subList(0, 2)), nodes.get(2)));
        // oracle 2: every delta summed naively, per layer, in double, into a fresh copy of the weights
        BaseModel naive = base.copy();
        for (LoraModule m : nodes.get(0).modules().values()) {
            String module = m.target().path();
            int in = m.target().inFeatures();
            int out = m.target().outFeatures();
            double[] delta = new double[out * in];
            for (LoraAdapter node : nodes) {
                addDelta(node.module(module), delta);
            }
            double[] flat = new double[out * in];
            addDelta(loaded.module(module), flat);
            for (int i = 0; i < delta.length; i++) {
                assertEquals(delta[i], flat[i], 1e-5 * (1 + Math.abs(delta[i])), module + " element " + i);
            }
            assertEquals(WeightLayout.OUT_IN, m.target().layout());
            Tensor w = naive.weight(m.target().weightKey());
            for (int i = 0; i < delta.length; i++) {
                w.set(i, (float) (w.get(i) + delta[i]));
            }
        }
        double independent = score(CausalLms.of(naive));
        double baseLoss = score(CausalLms.of(base));
        assertTrue(Math.abs(baseLoss - independent) > 1e-3, "the deltas change the model: " + baseLoss);
        assertEquals(independent, viaPath, 1e-5);
        assertEquals(asTrained, viaPath, 1e-5);
        assertEquals(baseLoss, score(CausalLms.of(base)), 0, "merging the ancestors left the shared base alone");
    }

    @Test
    void pathRankCompressesBySvdReportingTheError() {
        BaseModel base = Checkpoints.random(TINY, 7);
        List<LoraAdapter> nodes = nodes(base);
        double exact = score(CausalLms.withAdapter(base, TreePaths.flatten(nodes, null).adapter()));
        LoraCombine.Result full = TreePaths.flatten(nodes, 9);
        assertTrue(full.maxRelativeError() < 1e-5, "rank 9 = the path's rank: exact, " + full.maxRelativeError());
        assertEquals(exact, score(CausalLms.withAdapter(base, full.adapter())), 1e-5);
        LoraCombine.Result two = TreePaths.flatten(nodes, 2);
        two.adapter().modules().values().forEach(m -> assertEquals(2, m.rank()));
        // the truncation error of a sum of three independent random rank-2..4 deltas at rank 2 is far from 0
        assertTrue(two.maxRelativeError() > 0.1 && two.maxRelativeError() < 1, "error " + two.maxRelativeError());
        assertEquals(TinyError.of(nodes, two.adapter(), "model.layers.0.self_attn.q_proj"),
                two.relativeError().get("model.layers.0.self_attn.q_proj"), 1e-4);
    }

    /** ΔW += s·B·A with plain loops, (out, in). */
    static void addDelta(LoraModule m, double[] delta) {
        int in = m.target().inFeatures();
        int out = m.target().outFeatures();
        int r = m.rank();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += (double) m.loraB().value().get(o * r + k) * m.loraA().value().get(k * in + i);
                }
                delta[o * in + i] += m.scaling() * s;
            }
        }
    }

    /** ‖ΔW − ΔŴ‖/‖ΔW‖ of one module, computed here from the deltas. */
    static final class TinyError {
        static double of(List<LoraAdapter> nodes, LoraAdapter approx, String module) {
            LoraModule m = approx.module(module);
            double[] exact = new double[m.target().outFeatures() * m.target().inFeatures()];
            nodes.forEach(n -> addDelta(n.module(module), exact));
            double[] got = new double[exact.length];
            addDelta(m, got);
            double num = 0;
            double den = 0;
            for (int i = 0; i < exact.length; i++) {
                num += (exact[i] - got[i]) * (exact[i] - got[i]);
                den += exact[i] * exact[i];
            }
            return Math.sqrt(num / den);
        }
    }
}
