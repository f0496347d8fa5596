package io.sparklora.lora;

import io.sparklora.tensor.Parameter;
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
