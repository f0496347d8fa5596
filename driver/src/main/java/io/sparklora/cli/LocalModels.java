package io.sparklora.cli;

import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.file.Path;

/** The language model the local commands ({@code score}, {@code generate}) run: a base, with or without an adapter. */
final class LocalModels {
    private LocalModels() {
    }

    /** The base alone when {@code adapterDir} is null, else base + the PEFT adapter read from it. */
    static CausalLm withOptionalAdapter(BaseModel base, Path adapterDir) throws IOException {
        return adapterDir == null ? CausalLms.of(base)
                : CausalLms.withAdapter(base, PeftAdapters.read(adapterDir, base.config()));
    }
}
