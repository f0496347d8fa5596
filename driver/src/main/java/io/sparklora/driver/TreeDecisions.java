package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each node of a tree needs before anything trains, decided root first with {@code train}'s rules: a committed
 * node of the same fingerprint is {@code existing}; one of another fingerprint is retrained, kept or refused as
 * {@code --existing} says; a deterministic failure at the same fingerprint is not retried; anything else trains. A
 * node's fingerprint covers the fingerprints its ancestors will have (a kept ancestor's is the one on disk), so
 * retraining an ancestor with other data or settings retrains its whole subtree, and a node whose ancestor
 * failed before is failed too, without training.
 */
final class TreeDecisions {
    final Map<String, AdapterPlan> plans = new LinkedHashMap<>(); // node -> its plan (index: order in the tree)
    final Map<String, Fingerprint> fingerprints = new LinkedHashMap<>(); // node -> fingerprint after this run
    final Map<String, Manifest.Status> status = new LinkedHashMap<>(); // decided now: existing or failed
    final Map<String, String> reasons = new LinkedHashMap<>(); // node -> why it trains

    TreeDecisions(TreePlan tree, TrainJobSpec job, AdapterStore store, ExistingPolicy existing,
                  Map<String, Manifest.PreviousFailure> previous) throws IOException {
        List<String> refused = new ArrayList<>();
        for (List<TreeSpec.Node> level : tree.tree().levels()) {
            for (TreeSpec.Node n : level) {
                String name = n.name();
                List<String> path = tree.tree().path(name);
                List<Fingerprint> above = new ArrayList<>();
                path.subList(0, path.size() - 1).forEach(a -> above.add(fingerprints.get(a)));
                AdapterPlan p = tree.plan(name, plans.size(), above);
                plans.put(name, p);
                Fingerprint f = job.fingerprintOf(p);
                fingerprints.put(name, f);
                AdapterStore.State state = store.state(name);
                AdapterStore.Marker marker = state == AdapterStore.State.COMMITTED ? store.marker(name) : null;
                Manifest.PreviousFailure before = previous.get(name);
                String failedAncestor = path.subList(0, path.size() - 1).stream()
                        .filter(a -> status.containsKey(a) && status.get(a).isFailed()).findFirst().orElse(null);
                if (state == AdapterStore.State.FOREIGN) {
                    throw new IllegalArgumentException("Cannot train node " + name + " into " + store.dir(name)
                            + ": it holds files spark-lora did not write; move them away or choose another --out");
                } else if (failedAncestor != null) {
                    status.put(name, Manifest.Status.failed("its ancestor " + failedAncestor + " failed",
                            Manifest.Status.TRANSIENT));
                } else if (marker != null && marker.fingerprint().equals(f)) {
                    status.put(name, Manifest.Status.existing("fingerprint matches"));
                } else if (marker != null) {
                    String changed = String.join(", ", f.differencesFrom(marker.fingerprint())) + " changed";
                    if (existing == ExistingPolicy.KEEP) {
                        status.put(name, Manifest.Status.existing("kept by --existing keep although its " + changed));
                        fingerprints.put(name, marker.fingerprint()); // what its descendants train on
                    } else if (existing == ExistingPolicy.FAIL) {
                        refused.add(name + " (" + changed + ")");
                    } else {
                        reasons.put(name, "retrained: " + changed);
                    }
                } else if (before != null && before.fingerprint().equals(f.combined())) {
                    status.put(name, Manifest.Status.failed("failed before at this fingerprint, not retried: "
                            + before.reason(), Manifest.Status.DETERMINISTIC));
                } else {
                    reasons.put(name, state == AdapterStore.State.LEFTOVER ? "trained: replaces an incomplete or "
                            + "unfingerprinted leftover" : "trained: new");
                }
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("Cannot train: --existing fail and " + refused.size() + " node(s) of "
                    + job.outUri() + " were made differently: " + String.join("; ", refused));
        }
    }
}
