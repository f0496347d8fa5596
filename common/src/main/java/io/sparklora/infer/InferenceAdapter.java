package io.sparklora.infer;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A LoRA adapter made ready for {@link KvDecoder}: its modules indexed by the base's linear-layer order, so a decoder
 * step finds each layer's A and B without a map lookup. It shares A and B with the {@link LoraAdapter} (no copy) and
 * never touches the base weights: switching adapters is choosing another instance.
 */
public final class InferenceAdapter {
    private final String name;
    private final LoraAdapter adapter;
    private final LoraModule[] byLinear; // (linear modules of the base) the module adapting each layer, or null
    private final int maxRank;
    private final long bytes;

    /** Checks that every module of {@code adapter} adapts a linear layer of {@code config} with the same shape. */
    public InferenceAdapter(String name, LoraAdapter adapter, ModelConfig config) {
        List<LinearModule> linears = config.linearModules();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < linears.size(); i++) {
            index.put(linears.get(i).path(), i);
        }
        LoraModule[] modules = new LoraModule[linears.size()];
        int rank = 0;
        long size = 0;
        for (LoraModule m : adapter.modules().values()) {
            Integer i = index.get(m.target().path());
            if (i == null) {
                throw new IllegalArgumentException("Cannot use adapter " + name + ": module " + m.target().path()
                        + " is not a linear layer of this " + config.modelType() + " model");
            }
            LinearModule own = linears.get(i);
            if (own.inFeatures() != m.target().inFeatures() || own.outFeatures() != m.target().outFeatures()) {
                throw new IllegalArgumentException("Cannot use adapter " + name + ": module " + m.target().path()
                        + " is " + m.target().inFeatures() + "→" + m.target().outFeatures() + ", the base layer is "
                        + own.inFeatures() + "→" + own.outFeatures());
            }
            modules[i] = m;
            rank = Math.max(rank, m.rank());
            size += 4L * (m.loraA().value().size() + m.loraB().value().size());
        }
        this.name = name;
        this.adapter = adapter;
        this.byLinear = modules;
        this.maxRank = rank;
        this.bytes = size;
    }

    public String name() {
        return name;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    /** The module adapting linear layer {@code i} (in {@link ModelConfig#linearModules()} order), or null. */
    LoraModule module(int i) {
        return byLinear[i];
    }

    /** The largest rank of any module (the decoder's scratch width). */
    int maxRank() {
        return maxRank;
    }

    /** Bytes held by A and B of every module (float32). */
    public long bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return "InferenceAdapter[" + name + ", " + bytes + " bytes]";
    }
}
