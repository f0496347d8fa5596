package io.sparklora.driver;

import io.sparklora.output.TrainingFile;
import io.sparklora.job.Fingerprint;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraCombine;
import io.sparklora.model.ModelConfig;
import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * After the last level, every leaf's path from the root flattened into one PEFT adapter under
 * {@code <out>/paths/<leaf>/}, loadable alone by PEFT or vLLM: the path's A matrices stacked and B matrices side by
 * side with each node's scaling folded in ({@link LoraCombine#cat}, every weight 1), so ΔW = Σ sᵢBᵢAᵢ exactly and the
 * rank is the path's ranks summed; {@code --path-rank R} truncates that by SVD (Eckart–Young: the best rank-R
 * approximation), reporting the relative Frobenius error of the worst module. A path is committed like an adapter
 * (marker, fingerprint over its nodes' fingerprints and the path rank), so a re-run rewrites only changed paths.
 */
final class TreePaths {
    /** Where paths live under {@code --out}. */
    static final String DIR = "paths";

    private TreePaths() {
    }

    /** The path adapter of {@code nodes} (root first), truncated to {@code pathRank} when not null. */
    static LoraCombine.Result flatten(List<LoraAdapter> nodes, Integer pathRank) {
        LoraAdapter cat = LoraCombine.cat(nodes, ones(nodes.size()));
        if (pathRank == null) {
            return new LoraCombine.Result(cat, Map.of());
        }
        return LoraCombine.truncate(cat, pathRank, "compress a tree path to --path-rank " + pathRank);
    }

    /**
     * Writes every leaf's path whose nodes all committed; returns the manifest's {@code paths} entries. {@code nodes}
     * maps node name → its manifest entry (status, fingerprint); {@code settings} is the job's settings digest.
     */
    static List<ManifestFile.TreePath> write(TreeSpec tree, Map<String, ManifestFile.Adapter> nodes, String outUri,
                                             String baseUri, String baseSha, String settings, Integer pathRank,
                                             ModelConfig config, Configuration conf) throws IOException {
        AdapterStore adapters = new AdapterStore(outUri, conf);
        AdapterStore paths = new AdapterStore(outUri, DIR, conf);
        List<ManifestFile.TreePath> out = new ArrayList<>();
        for (TreeSpec.Node leaf : tree.leaves()) {
            List<String> path = tree.path(leaf.name());
            String failed = path.stream().filter(n -> nodes.get(n).isFailed()).findFirst().orElse(null);
            if (failed != null) {
                out.add(new ManifestFile.TreePath(leaf.name(), path, null, Manifest.Status.FAILED, "node " + failed
                        + " of its path failed", Manifest.Status.TRANSIENT, null, null, null, null, null));
                continue;
            }
            StringBuilder data = new StringBuilder("spark-lora tree path v1\npath_rank ").append(pathRank).append('\n');
            List<LoraAdapter> loaded = new ArrayList<>();
            int rankSum = 0;
            for (String n : path) {
                data.append(nodes.get(n).fingerprint().combined()).append('\n');
                loaded.add(AdapterFiles.read(adapters.dir(n).toString(), conf, config));
                rankSum += nodes.get(n).rank();
            }
            Fingerprint f = new Fingerprint(baseSha, settings, Fingerprint.sha256(data.toString()));
            LoraCombine.Result flat = flatten(loaded, pathRank);
            int rank = flat.adapter().modules().values().stream().mapToInt(m -> m.rank()).max().orElseThrow();
            TrainingFile record = TrainingFile.treePath(leaf.name(), path, rank, rankSum, pathRank,
                    pathRank != null ? Double.valueOf(flat.maxRelativeError()) : null,
                    pathRank != null ? flat.relativeError() : null);
            boolean written = paths.commit(leaf.name(), "driver-" + java.util.UUID.randomUUID(), flat.adapter(),
                    baseUri, record.toJson(), f);
            out.add(new ManifestFile.TreePath(leaf.name(), path, DIR + "/" + leaf.name(),
                    written ? Manifest.Status.TRAINED : Manifest.Status.EXISTING,
                    written ? "flattened" : "fingerprint matches", null, rank, rankSum, pathRank,
                    pathRank != null ? Double.valueOf(flat.maxRelativeError()) : null, f.combined()));
        }
        return out;
    }

    private static double[] ones(int n) {
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1);
        return w;
    }
}
