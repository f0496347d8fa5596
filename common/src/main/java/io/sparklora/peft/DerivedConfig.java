package io.sparklora.peft;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.lora.LoraTarget;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The {@link LoraConfig} that describes an adapter assembled from modules without one, so that PEFT rebuilds exactly
 * those modules: the most common rank and alpha as r and lora_alpha, the others as {@code rank_pattern} /
 * {@code alpha_pattern} entries keyed by the (regex-escaped) module path, and the modules by name and
 * {@code layers_to_transform} when they form a names × layers grid, else by full path.
 */
final class DerivedConfig {
    private DerivedConfig() {
    }

    static LoraConfig of(LoraAdapter adapter) {
        List<LoraModule> modules = List.copyOf(adapter.modules().values());
        int rank = mostCommon(modules, LoraModule::rank);
        float alpha = mostCommon(modules, LoraModule::alpha);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        Set<String> names = new TreeSet<>();
        Set<Integer> layers = new TreeSet<>();
        Set<String> paths = new TreeSet<>();
        boolean plain = true;
        boolean rs = true;
        for (LoraModule m : modules) {
            String key = m.target().path().replace(".", "\\.");
            if (m.rank() != rank) {
                ranks.put(key, m.rank());
            }
            if (m.alpha() != alpha) {
                alphas.put(key, (double) m.alpha());
            }
            names.add(m.target().name());
            layers.add(m.target().layer());
            paths.add(m.target().path());
            plain &= close(m.scaling(), m.alpha() / m.rank());
            rs &= close(m.scaling(), m.alpha() / Math.sqrt(m.rank()));
            if (m.dropout() != modules.get(0).dropout()) {
                throw new IllegalArgumentException("Cannot describe adapter: modules have different dropouts ("
                        + modules.get(0).dropout() + ", " + m.dropout() + "); lora_dropout is one value");
            }
        }
        if (!plain && !rs) {
            LoraModule m = modules.stream().filter(x -> !close(x.scaling(), x.alpha() / x.rank())).findFirst()
                    .orElseThrow();
            throw new IllegalArgumentException("Cannot describe adapter: module " + m.target().path() + " has scaling "
                    + m.scaling() + ", neither alpha/rank nor alpha/√rank");
        }
        boolean grid = (long) names.size() * layers.size() == modules.size() && !layers.contains(-1);
        LoraConfig c = LoraConfig.defaults().withRank(rank).withAlpha(alpha).withDropout(modules.get(0).dropout())
                .withRankPattern(ranks).withAlphaPattern(alphas);
        c = grid ? c.withTargetModules(List.copyOf(names)).withLayersToTransform(List.copyOf(layers), null)
                : c.withTargetModules(List.copyOf(paths));
        return plain ? c : c.withRslora();
    }

    /** Refuses to write a config that would rebuild other ranks, alphas, scalings or dropout than the tensors have. */
    static void checkDescribes(LoraConfig config, LoraAdapter adapter, String dir) {
        String cannot = "Cannot write adapter " + dir + ": ";
        for (LoraModule m : adapter.modules().values()) {
            LoraTarget t = config.targetOf(m.target());
            String path = m.target().path();
            if (t == null) {
                throw new IllegalArgumentException(cannot + "its config does not target module " + path);
            }
            if (t.rank() != m.rank()) {
                throw new IllegalArgumentException(cannot + "module " + path + " has rank " + m.rank()
                        + ", its config gives " + t.rank());
            }
            if ((float) t.alpha() != m.alpha() || !close(m.scaling(), t.scaling())) {
                throw new IllegalArgumentException(cannot + "module " + path + " has alpha " + m.alpha() + " and scaling "
                        + m.scaling() + ", its config gives " + t.alpha() + " and " + t.scaling());
            }
            if (m.dropout() != (float) config.dropout()) {
                throw new IllegalArgumentException(cannot + "module " + path + " has dropout " + m.dropout()
                        + ", its config gives " + config.dropout());
            }
        }
    }

    private static boolean close(double a, double b) {
        return Math.abs(a - b) <= 1e-6 * Math.abs(b);
    }

    /** The most frequent value; ties go to the smallest. */
    private static <T extends Comparable<T>> T mostCommon(List<LoraModule> modules, Function<LoraModule, T> f) {
        Map<T, Integer> counts = new HashMap<>();
        modules.forEach(m -> counts.merge(f.apply(m), 1, Integer::sum));
        return counts.entrySet().stream().max(Comparator.<Map.Entry<T, Integer>>comparingInt(Map.Entry::getValue)
                .thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).orElseThrow().getKey();
    }
}
