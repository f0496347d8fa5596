package io.sparklora.serve;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Adapters with random B (a freshly initialised LoRA has B = 0 and would equal the base), written in PEFT format
 * under {@code root/adapters/NAME} as {@code train} writes them: what {@code bench-serve} and the serve tests serve
 * when the point is the serving, not what was learned.
 */
public final class RandomAdapters {
    private RandomAdapters() {
    }

    /** Writes adapter {@code name}: A as LoRA initialises it from {@code seed}, B uniform in ±0.1. */
    public static LoraAdapter write(BaseModel base, Path root, String name, LoraConfig config, long seed)
            throws IOException {
        LoraAdapter a = LoraAdapter.initialize(config.withSeed(seed), base.config());
        SplitMix64 rng = new SplitMix64(100 + seed);
        for (LoraModule m : a.modules().values()) {
            Tensor b = m.loraB().value(); // (outFeatures, rank)
            for (int k = 0; k < b.size(); k++) {
                b.set(k, (rng.nextFloat() - 0.5f) * 0.2f);
            }
        }
        PeftAdapters.write(root.resolve("adapters/" + name), a, "base");
        return a;
    }
}
