package io.sparklora.cli;

import io.sparklora.driver.ModelStore;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraCombine;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.peft.PeftAdapters;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code combine}: several adapters of one base into one PEFT adapter, by the three methods of PEFT's
 * {@code add_weighted_adapter} ({@link LoraCombine}): {@code cat} (exact, ranks add), {@code linear} (equal ranks and
 * modules) and {@code svd} (best rank-R approximation of the weighted sum of the deltas). Inputs and output may be on
 * {@code file://}, {@code hdfs://} or {@code s3a://}; every input is checked to adapt {@code --model}
 * ({@link AdapterInputs}) before anything is computed, and the output appears whole or not at all, with
 * {@code combine.json} recording the inputs, weights and (svd) each module's truncation error.
 */
@Command(name = "combine", mixinStandardHelpOptions = true,
        description = "Combine LoRA adapters of one base model into one PEFT adapter (cat, linear or svd).")
final class CombineCommand implements Callable<Integer> {
    private static final List<String> METHODS = List.of("cat", "linear", "svd");

    @Option(names = "--model", required = true, description = "base model directory the adapters were trained on")
    String model;

    @Option(names = "--adapters", required = true, split = ",", description = "PEFT adapter directories, A,B[,...]")
    List<String> adapters;

    @Option(names = "--weights", split = ",", description = "one weight per adapter (default: 1 each)")
    List<Double> weights;

    @Option(names = "--method", required = true, description = "cat (exact, ranks add), linear (equal ranks), "
            + "svd (best rank-R approximation of the weighted sum)")
    String method;

    @Option(names = "--rank", description = "svd only: rank of the result (default: the largest input rank)")
    Integer rank;

    @Option(names = "--out", required = true, description = "output adapter directory (must not exist or be empty)")
    String out;

    @Override
    public Integer call() throws Exception {
        double[] w = checkOptions();
        Configuration conf = LocalHadoopConf.create();
        ModelStore.ModelInfo info = ModelStore.describe(model, conf);
        ModelConfig base = info.config();
        List<AdapterInputs.Input> inputs = new ArrayList<>();
        for (int i = 0; i < adapters.size(); i++) {
            System.out.println("Reading adapter " + (i + 1) + "/" + adapters.size() + ": " + adapters.get(i));
            inputs.add(AdapterInputs.read(adapters.get(i), base, conf));
        }
        AdapterInputs.checkSameBase(inputs, model, conf, "combine adapters");
        List<LoraAdapter> loras = inputs.stream().map(AdapterInputs.Input::adapter).toList();
        System.out.println("Combining " + loras.size() + " adapter(s) with " + method + ", weights "
                + java.util.Arrays.toString(w));
        LoraCombine.Result result = combine(loras, w);
        boolean svd = method.equals("svd");
        result.relativeError().forEach((path, e) -> System.out.printf(Locale.ROOT,
                "  %s: relative error %.3e%n", path, e));
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (LoraModule m : result.adapter().modules().values()) {
            ranks.put(m.target().path(), m.rank());
        }
        DerivedAdapterRecord record = new DerivedAdapterRecord(DerivedAdapterRecord.FORMAT_VERSION, "combine",
                Versions.sparkLora(), model, inputs.stream().anyMatch(in -> in.baseSha256() != null)
                ? ModelStore.sha256(model, conf) : null, List.copyOf(adapters), null, method,
                java.util.Arrays.stream(w).boxed().toList(), svd ? rank : null, ranks,
                svd ? result.relativeError() : null, result.maxRelativeError(), null, Instant.now().toString());
        StoreOutputDirs.writeAtomically(out, conf, "combined adapter", dir -> {
            PeftAdapters.write(dir, result.adapter(), info.uri());
            record.writeTo(dir);
        });
        int maxRank = ranks.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        System.out.printf(Locale.ROOT, "Wrote adapter (%s of %d, %d modules, rank up to %d, max relative error "
                + "%.3e) to %s%n", method, loras.size(), ranks.size(), maxRank, result.maxRelativeError(), out);
        return 0;
    }

    /** The weights; fails on an unknown method, a weight count that does not match, or a rank where none applies. */
    private double[] checkOptions() {
        if (!METHODS.contains(method)) {
            throw new IllegalArgumentException("Invalid --method " + method + ": expected one of "
                    + String.join(", ", METHODS));
        }
        if (weights != null && weights.size() != adapters.size()) {
            throw new IllegalArgumentException("Invalid --weights: " + weights.size() + " weight(s) for "
                    + adapters.size() + " adapter(s); give one weight per adapter");
        }
        if (rank != null && !method.equals("svd")) {
            throw new IllegalArgumentException("Invalid --rank " + rank + ": only --method svd takes a rank ("
                    + method + "'s rank follows from its inputs)");
        }
        if (rank != null && rank < 1) {
            throw new IllegalArgumentException("Invalid --rank " + rank + ": must be >= 1");
        }
        double[] w = new double[adapters.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = weights == null ? 1 : weights.get(i);
        }
        return w;
    }

    /** cat and linear are exact by their definitions: no truncation error to report. */
    private LoraCombine.Result combine(List<LoraAdapter> loras, double[] w) {
        try {
            return switch (method) {
                case "cat" -> new LoraCombine.Result(LoraCombine.cat(loras, w), Map.of());
                case "linear" -> new LoraCombine.Result(LoraCombine.linear(loras, w), Map.of());
                default -> LoraCombine.svd(loras, w, rank);
            };
        } catch (IllegalArgumentException e) {
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < adapters.size(); i++) {
                names.append(i == 0 ? " (" : ", ").append("adapter ").append(i + 1).append(" = ")
                        .append(adapters.get(i));
            }
            throw new IllegalArgumentException(e.getMessage() + names + ")", e);
        }
    }
}
