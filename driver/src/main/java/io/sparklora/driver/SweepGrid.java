package io.sparklora.driver;

import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraTarget;
import io.sparklora.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The LoRA points of {@code sweep}: every target set of {@code --targets-grid} at every rank of {@code --ranks}.
 * Parsed and checked before anything is read or written, so a bad grid is one clear error and no output.
 *
 * @param ranks   the ranks, ascending, each at least 1
 * @param targets the target sets as given (module names or {@code all-linear}), in the order given
 */
public record SweepGrid(List<Integer> ranks, List<List<String>> targets) {
    /** One LoRA point: a target set (its index in the grid) at a rank. */
    public record Point(int targetsIndex, List<String> targets, int rank) {
        /** The directory of the point's output under {@code points/}: {@code <targets-id>-r<rank>}. */
        public String id() {
            return targetsId(targets) + "-r" + rank;
        }
    }

    /** Parses {@code --ranks 1,2,4} and {@code --targets-grid 'q_proj,v_proj;all-linear'}. */
    public static SweepGrid parse(String ranks, String targetsGrid) {
        List<Integer> r = new ArrayList<>();
        for (String s : ranks.split(",", -1)) {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Invalid --ranks " + ranks + ": expected positive integers "
                        + "separated by commas, got '" + s.trim() + "'");
            }
            if (v < 1) {
                throw new IllegalArgumentException("Invalid --ranks " + ranks + ": every rank must be >= 1, got " + v);
            }
            r.add(v);
        }
        List<Integer> sorted = List.copyOf(new TreeSet<>(r));
        if (sorted.size() != r.size()) {
            throw new IllegalArgumentException("Invalid --ranks " + ranks + ": a rank is listed twice");
        }
        List<List<String>> t = new ArrayList<>();
        for (String set : targetsGrid.split(";", -1)) {
            List<String> names = Arrays.stream(set.split(",")).map(String::trim).filter(n -> !n.isEmpty())
                    .sorted().distinct().toList();
            if (names.isEmpty()) {
                throw new IllegalArgumentException("Invalid --targets-grid " + targetsGrid + ": target set "
                        + (t.size() + 1) + " is empty (sets are separated by ';', modules by ',')");
            }
            if (t.contains(names)) {
                throw new IllegalArgumentException("Invalid --targets-grid " + targetsGrid + ": the set "
                        + String.join(",", names) + " is listed twice");
            }
            LoraConfig.defaults().withTargetModules(names); // refuses names no family has
            t.add(names);
        }
        return new SweepGrid(sorted, List.copyOf(t));
    }

    /** Refuses a target set the model does not have, or a rank above a module's min(in, out), naming it. */
    public void check(LoraConfig lora, ModelConfig model) {
        for (Point p : points()) {
            try {
                lora.withTargetModules(p.targets()).withRank(p.rank()).resolve(model);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid sweep point " + p.id() + ": " + e.getMessage());
            }
        }
    }

    /** Every point, target set by target set, ranks ascending. */
    public List<Point> points() {
        List<Point> out = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            for (int rank : ranks) {
                out.add(new Point(i, targets.get(i), rank));
            }
        }
        return out;
    }

    /** The module names a target set adapts in {@code model} ({@code all-linear} expanded), in checkpoint order. */
    public static List<String> expanded(LoraConfig lora, ModelConfig model) {
        List<String> names = new ArrayList<>();
        for (LoraTarget t : lora.resolve(model)) {
            if (!names.contains(t.module().name())) {
                names.add(t.module().name());
            }
        }
        return names;
    }

    /** Trainable parameters of a LoRA config on {@code model}: r·(in + out) per adapted layer. */
    public static long trainableParameters(LoraConfig lora, ModelConfig model) {
        long n = 0;
        for (LoraTarget t : lora.resolve(model)) {
            n += (long) t.rank() * (t.module().inFeatures() + t.module().outFeatures());
        }
        return n;
    }

    /** A target set as a directory-safe id: the names joined by '+'. */
    static String targetsId(List<String> targets) {
        return String.join("+", targets);
    }
}
