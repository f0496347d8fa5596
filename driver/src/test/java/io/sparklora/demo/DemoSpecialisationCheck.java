package io.sparklora.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.Window;
import io.sparklora.job.WindowPacker;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.model.Checkpoints;
import io.sparklora.nn.CausalLms;
import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.util.StrictJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's promise checked in one process, without Spark: one LoRA adapter per language of
 * {@code data/demo/fortunes.jsonl} over {@code models/demo-base}, then the held-out loss of the base and of every
 * adapter on every language (the 5×4 matrix of {@code models/demo-base/README.md}). Not a unit test (minutes of CPU);
 * run it by hand:
 *
 * <pre>
 * java -cp driver/target/test-classes:driver/target/classes:driver/target/lib/* io.sparklora.demo.DemoSpecialisationCheck \
 *     models/demo-base data/demo/fortunes.jsonl steps=300 batch=8 seq=128 lr=2e-3 rank=8 alpha=16 targets=q_proj,v_proj
 * </pre>
 */
public final class DemoSpecialisationCheck {
    private DemoSpecialisationCheck() {
    }

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(args[0]);
        Path data = Path.of(args[1]);
        Map<String, String> opt = new LinkedHashMap<>(Map.of("steps", "300", "batch", "8", "seq", "128", "lr",
                "2e-3", "rank", "8", "alpha", "16", "targets", "q_proj,v_proj", "warmup", "0", "seed", "42",
                "held-out", "0.1"));
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            opt.put(kv[0], kv[1]);
        }
        System.out.println("options " + opt);
        BaseModel base = Checkpoints.load(modelDir);
        int seq = Integer.parseInt(opt.get("seq"));
        long seed = Long.parseLong(opt.get("seed"));
        Map<String, List<Map<String, Object>>> byLang = new LinkedHashMap<>();
        for (String line : Files.readAllLines(data)) {
            JsonNode row = StrictJson.MAPPER.readTree(line);
            Map<String, Object> columns = Map.of("text", row.get("text").asText());
            byLang.computeIfAbsent(row.get("lang").asText(), k -> new ArrayList<>()).add(columns);
        }
        Map<String, PackedData> packed = new LinkedHashMap<>();
        WindowPacker packer = new WindowPacker(new ByteTokenizer(), seq);
        for (var e : byLang.entrySet()) {
            packed.put(e.getKey(), packer.packRows(e.getKey(), e.getValue().iterator(), "text",
                    Double.parseDouble(opt.get("held-out")), seed));
        }
        List<String> langs = new ArrayList<>(packed.keySet());
        Map<String, double[]> matrix = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        matrix.put("base", evalAll(CausalLms.of(base), packed, langs));
        System.out.printf(Locale.ROOT, "base evaluated in %.1fs%n", (System.nanoTime() - t0) / 1e9);
        LoraConfig lora = LoraConfig.defaults().withRank(Integer.parseInt(opt.get("rank")))
                .withAlpha(Double.parseDouble(opt.get("alpha")))
                .withTargetModules(Arrays.asList(opt.get("targets").split(",")));
        double trainSeconds = 0;
        for (String lang : langs) {
            TrainSpec spec = TrainSpec.lora(lang, lora).steps(Integer.parseInt(opt.get("steps")))
                    .batchSize(Integer.parseInt(opt.get("batch"))).seqLen(seq)
                    .learningRate(Double.parseDouble(opt.get("lr"))).warmupSteps(Integer.parseInt(opt.get("warmup")))
                    .heldOutFraction(Double.parseDouble(opt.get("held-out"))).seed(seed).build();
            LoraAdapter adapter = LoraAdapter.initialize(lora, base.config());
            TrainResult r = AdapterTrainer.lora(spec, base, adapter, packed.get(lang)).run();
            trainSeconds += r.timings().trainSeconds();
            System.out.printf(Locale.ROOT, "%s: %d train windows, %d steps in %.1fs (%.0f tok/s), train %.4f,"
                            + " held-out %.4f%n", lang, packed.get(lang).train().size(), r.steps(),
                    r.timings().trainSeconds(), r.tokensPerSecond(), r.finalTrainLoss(), r.finalHeldOutLoss());
            matrix.put(lang, evalAll(CausalLms.withAdapter(base, adapter), packed, langs));
        }
        System.out.printf(Locale.ROOT, "training of %d adapters: %.1fs; total %.1fs%n", langs.size(), trainSeconds,
                (System.nanoTime() - t0) / 1e9);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-8s", "held-out"));
        langs.forEach(l -> s.append(String.format(Locale.ROOT, "%9s", l)));
        System.out.println(s);
        boolean ok = true;
        for (var e : matrix.entrySet()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-8s", e.getKey()));
            for (double v : e.getValue()) {
                row.append(String.format(Locale.ROOT, "%9.4f", v));
            }
            System.out.println(row);
        }
        for (int j = 0; j < langs.size(); j++) {
            String own = langs.get(j);
            double mine = matrix.get(own)[j];
            boolean best = mine < matrix.get("base")[j];
            for (String other : langs) {
                best &= other.equals(own) || mine < matrix.get(other)[j];
            }
            ok &= best;
            System.out.printf(Locale.ROOT, "%s: own adapter %.4f, base %.4f -> %s%n", own, mine,
                    matrix.get("base")[j], best ? "lowest" : "NOT lowest");
        }
        System.out.println(ok ? "SPECIALISATION OK" : "SPECIALISATION FAILED");
    }

    private static double[] evalAll(CausalLm lm, Map<String, PackedData> packed, List<String> langs) {
        double[] out = new double[langs.size()];
        for (int i = 0; i < langs.size(); i++) {
            out[i] = Window.meanLoss(lm, packed.get(langs.get(i)).heldOut(), 8);
        }
        return out;
    }
}
