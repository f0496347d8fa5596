package io.sparklora.cli;

import io.sparklora.driver.AdapterFiles;
import io.sparklora.driver.ModelStore;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraMerge;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code merge}: folds a PEFT adapter into a copy of its base (W ← W + s·B·A, {@link LoraMerge}) and writes the result
 * as a plain Hugging Face checkpoint, which then runs with no LoRA at all (LoRA §4.1: no added inference latency). The
 * base's {@code tokenizer.json}, if any, is copied along so the merged model tokenizes as the base does.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a LoRA adapter into its base model and write the result as an HF checkpoint.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "base model directory (config.json + model.safetensors):"
            + " a local path or any Hadoop URI")
    String model;

    @Option(names = "--adapter", required = true, description = "PEFT adapter directory: a local path or any Hadoop URI")
    String adapter;

    @Option(names = "--out", required = true, description = "output directory, a local path or any Hadoop URI (must"
            + " not exist or be empty; written whole or not at all)")
    String out;

    @Override
    public Integer call() throws Exception {
        Configuration conf = LocalHadoopConf.create();
        BaseModel base = LocalModels.load(model, conf).base(); // a fresh copy: the files under --model are never written
        LoraAdapter lora = AdapterFiles.read(adapter, conf, base.config());
        LoraMerge.merge(base, lora);
        StoreOutputDirs.writeAtomically(out, conf, "merged model", dir -> {
            Checkpoints.save(base, dir);
            ModelStore.copyTokenizerFiles(model, conf, dir); // tokenizer.json and tokenizer_config.json: its BOS/EOS
        });
        System.out.println("Wrote " + base.config().modelType() + " model merged with " + lora.modules().size()
                + " LoRA modules of " + adapter + " to " + out);
        return 0;
    }
}
