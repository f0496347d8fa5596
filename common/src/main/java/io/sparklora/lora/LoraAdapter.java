package io.sparklora.lora;

import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of LoRA modules for one base model, keyed by the HF module path they adapt (PEFT's {@code LoraModel} with one
 * adapter). Factories that build one from a {@code LoraConfig} or read one from PEFT files live beside it.
 */
public final class LoraAdapter {
    private final LoraConfig config;
    private final Map<String, LoraModule> modules; // HF module path -> module, in checkpoint order

    public LoraAdapter(LoraConfig config, List<LoraModule> modules) {
        this.config = config;
        Map<String, LoraModule> m = new LinkedHashMap<>();
        for (LoraModule module : modules) {
            if (m.put(module.target().path(), module) != null) {
                throw new IllegalArgumentException("Invalid adapter: module " + module.target().path() + " given twice");
            }
        }
        this.modules = Collections.unmodifiableMap(m);
    }

    /**
     * A fresh adapter for {@code model}: one module per {@link LoraConfig#resolve} target, B = 0 (so the adapted model
     * starts exactly at the base) and A drawn as PEFT's {@code reset_lora_parameters} draws it. Each module's A comes
     * from its own SplitMix64 stream keyed by (seed, module path), so adding or removing targets leaves the other
     * modules' A unchanged.
     */
    public static LoraAdapter initialize(LoraConfig config, ModelConfig model) {
        List<LoraModule> modules = new ArrayList<>();
        for (LoraTarget t : config.resolve(model)) {
            int in = t.module().inFeatures();
            Tensor loraA = Tensor.zeros(t.rank(), in); // (rank, in)
            Tensor loraB = Tensor.zeros(t.module().outFeatures(), t.rank()); // (out, rank), zero
            SplitMix64 rng = moduleStream(config.seed(), t.module().path());
            if (config.init() == LoraInit.GAUSSIAN) {
                double std = 1.0 / t.rank(); // PEFT: nn.init.normal_(A, std=1 / r)
                for (int i = 0; i < loraA.size(); i++) {
                    loraA.set(i, (float) (std * rng.nextGaussian()));
                }
            } else {
                // torch kaiming_uniform_(A, a=√5) on a (rank, in) weight: fan_in = in, gain = √(2 / (1 + a²)) = √(1/3),
                // bound = gain · √(3 / fan_in) = 1/√in.
                double bound = Math.sqrt(2.0 / (1.0 + 5.0)) * Math.sqrt(3.0 / in);
                for (int i = 0; i < loraA.size(); i++) {
                    loraA.set(i, (float) ((2 * rng.nextDouble() - 1) * bound));
                }
            }
            modules.add(new LoraModule(t.module(), t.rank(), (float) t.alpha(), (float) t.scaling(),
                    (float) config.dropout(), loraA, loraB));
        }
        return new LoraAdapter(config, modules);
    }

    /** The stream of one module: the seed mixed with a 64-bit FNV-1a hash of the path, then one SplitMix64 step. */
    static SplitMix64 moduleStream(long seed, String path) {
        long h = 0xcbf29ce484222325L;
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new SplitMix64(new SplitMix64(seed ^ h).nextLong());
    }

    /** The config this adapter was built or read from; null for adapters assembled from modules directly. */
    public LoraConfig config() {
        return config;
    }

    /** The module adapting the linear layer at {@code path}, or null when that layer is not adapted. */
    public LoraModule module(String path) {
        return modules.get(path);
    }

    public Map<String, LoraModule> modules() {
        return modules;
    }

    /** A then B of every module, in checkpoint order. */
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>(modules.size() * 2);
        for (LoraModule m : modules.values()) {
            out.add(m.loraA());
            out.add(m.loraB());
        }
        return out;
    }
}
