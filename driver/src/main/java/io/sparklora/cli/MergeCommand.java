package io.sparklora.cli;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraMerge;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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
    @Option(names = "--model", required = true, description = "base model directory (config.json + model.safetensors)")
    Path model;

    @Option(names = "--adapter", required = true, description = "PEFT adapter directory")
    Path adapter;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() throws Exception {
        BaseModel base = Checkpoints.load(model); // a fresh copy: the files under --model are never written
        LoraAdapter lora = PeftAdapters.read(adapter, base.config());
        LoraMerge.merge(base, lora);
        OutputDirs.writeAtomically(out, "merged model", dir -> {
            Checkpoints.save(base, dir);
            Tokenizers.copyFiles(model, dir); // tokenizer.json and tokenizer_config.json: its BOS/EOS
        });
        System.out.println("Wrote " + base.config().modelType() + " model merged with " + lora.modules().size()
                + " LoRA modules of " + adapter + " to " + out);
        return 0;
    }
}
