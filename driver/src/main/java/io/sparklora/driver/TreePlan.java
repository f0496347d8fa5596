package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link TreeSpec} resolved against the data: per node the keys whose rows it trains on (its own, its parent's, or
 * all of them), its row count and the digest of its rows. Built on {@link TrainPlanner}'s per-key plan, so a key too
 * small for one training window is left out of every node (with the same reason {@code train} gives), and a node's
 * per-key held-out split is the one a flat adapter of that key would hold out.
 */
final class TreePlan {
    private final TreeSpec tree;
    private final Map<String, AdapterPlan> byKey; // the data's usable keys (null key: TrainData.NULL_KEY)
    private final Map<String, List<String>> keysOf = new LinkedHashMap<>(); // node -> its usable keys, sorted

    /** Fails, naming the node and key, when a node lists a key the data does not have or is left with no rows. */
    TreePlan(TreeSpec tree, TrainPlanner.Plan perKey, String dataPath) {
        this.tree = tree;
        this.byKey = new LinkedHashMap<>();
        perKey.adapters().forEach(p -> byKey.put(p.key() == null ? TrainData.NULL_KEY : p.key(), p));
        Set<String> skipped = new LinkedHashSet<>();
        perKey.skipped().forEach(s -> skipped.add(s.key()));
        String cannot = "Cannot train tree " + tree.source() + ": ";
        for (List<TreeSpec.Node> level : tree.levels()) {
            for (TreeSpec.Node n : level) {
                List<String> keys;
                if (n.keys() != null) {
                    keys = new ArrayList<>();
                    for (String k : n.keys()) {
                        if (byKey.containsKey(k)) {
                            keys.add(k);
                        } else if (!skipped.contains(k)) {
                            throw new IllegalArgumentException(cannot + "node " + n.name() + " lists key " + k
                                    + ", which the data " + dataPath + " does not have (its keys: "
                                    + preview(perKey) + ")");
                        }
                    }
                } else {
                    keys = n.parent() == null ? new ArrayList<>(byKey.keySet()) : keysOf.get(n.parent());
                }
                if (keys.isEmpty()) {
                    throw new IllegalArgumentException(cannot + "node " + n.name() + " has no rows to train on: "
                            + "its keys " + n.keys() + " are all too small (see the skipped keys above)");
                }
                keysOf.put(n.name(), keys.stream().sorted().toList());
            }
        }
    }

    TreeSpec tree() {
        return tree;
    }

    /** The keys whose rows node {@code name} trains on, sorted. */
    List<String> keys(String name) {
        return keysOf.get(name);
    }

    /** The usable keys' plans, partition i = key i: what {@link SparkTrainJob#rowsByPlan} routes rows by. */
    List<AdapterPlan> perKeyPlans() {
        List<AdapterPlan> out = new ArrayList<>();
        byKey.values().forEach(p -> out.add(p.at(out.size())));
        return out;
    }

    /**
     * Node {@code name} as the plan of one adapter, at partition {@code index}: its data digest covers its keys'
     * row digests and the fingerprints of its ancestors' committed adapters, root first, so a changed ancestor
     * retrains every descendant.
     */
    AdapterPlan plan(String name, int index, List<Fingerprint> ancestors) {
        StringBuilder s = new StringBuilder("spark-lora tree node v1\n");
        long rows = 0;
        long tokens = 0;
        Map<String, String> digests = new TreeMap<>();
        for (String k : keysOf.get(name)) {
            AdapterPlan p = byKey.get(k);
            rows += p.rows();
            tokens += p.tokens();
            digests.put(k, p.dataDigest());
        }
        digests.forEach((k, d) -> s.append("key ").append(Fingerprint.sha256(k)).append(' ').append(d).append('\n'));
        ancestors.forEach(f -> s.append("ancestor ").append(f.combined()).append('\n'));
        return new AdapterPlan(name, null, index, rows, tokens, Fingerprint.sha256(s.toString()));
    }

    private static String preview(TrainPlanner.Plan perKey) {
        List<String> keys = new ArrayList<>();
        perKey.adapters().forEach(p -> keys.add(String.valueOf(p.key())));
        perKey.skipped().forEach(s -> keys.add(s.key() + " (too small)"));
        return keys.size() <= 20 ? String.join(", ", keys) : String.join(", ", keys.subList(0, 20)) + ", … ("
                + keys.size() + " in all)";
    }
}
