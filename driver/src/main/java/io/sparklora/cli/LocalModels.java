package io.sparklora.cli;

import io.sparklora.driver.AdapterFiles;
import io.sparklora.driver.ModelStore;
import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;

/**
 * The models the local commands ({@code score}, {@code generate}, {@code merge}, {@code pretrain}) run, read from a
 * local path or any Hadoop URI with the readers {@code train} uses ({@link ModelStore}, {@link AdapterFiles}).
 */
final class LocalModels {
    /** A base model as given on the command line: what {@link ModelStore#describe} found, and its weights. */
    record Loaded(String uri, ModelStore.ModelInfo info, BaseModel base) {
        Tokenizer tokenizer() {
            return info.tokenizer().get();
        }
    }

    private LocalModels() {
    }

    /** The model at {@code uri}; "Cannot load base model URI: …" when it is absent or not a checkpoint. */
    static Loaded load(String uri, Configuration conf) throws IOException {
        ModelStore.ModelInfo info = ModelStore.describe(uri, conf); // checks config, weights, tokenizer; names uri
        return new Loaded(uri, info, ModelStore.load(uri, conf));
    }

    /** The base alone when {@code adapterUri} is null, else base + the PEFT adapter read from it. */
    static CausalLm withOptionalAdapter(BaseModel base, String adapterUri, Configuration conf) throws IOException {
        return adapterUri == null ? CausalLms.of(base)
                : CausalLms.withAdapter(base, AdapterFiles.read(adapterUri, conf, base.config()));
    }
}
