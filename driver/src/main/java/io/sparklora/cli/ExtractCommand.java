package io.sparklora.cli;

import io.sparklora.driver.ModelStore;
import io.sparklora.lora.LoraExtract;
import io.sparklora.model.BaseModel;
import io.sparklora.peft.PeftAdapters;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code extract}: a fully fine-tuned model (from {@code train --full} or anywhere else) as the best rank-R PEFT
 * adapter of its base ({@link LoraExtract}: truncated SVD of each weight difference), so the far corner of the plane
 * can be compared with, and shipped as, an adapter. Each module's relative error is printed and recorded in
 * {@code extract.json}; weights LoRA cannot hold (norms, embeddings) that differ are named, never silently dropped.
 */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = "Turn a fine-tuned model into the best rank-R LoRA adapter of its base (truncated SVD).")
final class ExtractCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "base model directory")
    String model;

    @Option(names = "--tuned", required = true, description = "fine-tuned model directory of the same architecture")
    String tuned;

    @Option(names = "--rank", required = true, description = "rank of the adapter")
    int rank;

    @Option(names = "--out", required = true, description = "output adapter directory (must not exist or be empty)")
    String out;

    @Override
    public Integer call() throws Exception {
        if (rank < 1) {
            throw new IllegalArgumentException("Invalid --rank " + rank + ": must be >= 1");
        }
        Configuration conf = LocalHadoopConf.create();
        String baseUri = ModelStore.describe(model, conf).uri();
        String tunedUri;
        try {
            tunedUri = ModelStore.describe(tuned, conf).uri();
        } catch (IllegalArgumentException e) { // describe names every model it reads a base
            throw new IllegalArgumentException(e.getMessage().replaceFirst("^Cannot load base model",
                    "Cannot load tuned model"), e);
        }
        System.out.println("Loading base " + baseUri + " and tuned model " + tunedUri);
        BaseModel base = ModelStore.load(baseUri, conf);
        BaseModel tunedModel = ModelStore.load(tunedUri, conf);
        System.out.println("Extracting rank " + rank + " from " + base.config().linearModules().size()
                + " linear layers' weight differences");
        LoraExtract.Result result = LoraExtract.extract(base, tunedModel, rank);
        result.relativeError().forEach((path, e) -> System.out.printf(Locale.ROOT, "  %s: relative error %.3e%n",
                path, e));
        result.notExtracted().forEach((key, d) -> System.out.printf(Locale.ROOT,
                "  not extracted (LoRA adapts linear layers only): %s differs by up to %.3e%n", key, d));
        Map<String, Integer> ranks = new LinkedHashMap<>();
        result.adapter().modules().values().forEach(m -> ranks.put(m.target().path(), m.rank()));
        DerivedAdapterRecord record = new DerivedAdapterRecord(DerivedAdapterRecord.FORMAT_VERSION, "extract",
                Versions.sparkLora(), baseUri, ModelStore.sha256(baseUri, conf), List.of(), tunedUri, "svd", null,
                rank, ranks, result.relativeError(), result.maxRelativeError(), result.notExtracted(),
                Instant.now().toString());
        StoreOutputDirs.writeAtomically(out, conf, "extracted adapter", dir -> {
            PeftAdapters.write(dir, result.adapter(), baseUri);
            record.writeTo(dir);
        });
        System.out.printf(Locale.ROOT, "Wrote rank-%d adapter of %d modules (max relative error %.3e, %d other "
                + "tensor(s) differ) to %s%n", rank, ranks.size(), result.maxRelativeError(),
                result.notExtracted().size(), out);
        return 0;
    }
}
