package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.model.LinearModule;
import io.sparklora.tensor.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link io.sparklora.model.CausalLm} of a base model's family in one of three training modes: none
 * (scoring), LoRA (only A and B get gradients), or all weights (every base tensor is a parameter).
 */
public final class CausalLms {
    private CausalLms() {
    }

    /** The base model alone; it has no trainable parameters. */
    public static CausalLm of(BaseModel base) {
        return build(base, List.of(), null);
    }

    /**
     * The base model with a LoRA adapter; A and B of every module are the trainable parameters. Fails naming the module
     * when the adapter does not fit the base.
     */
    public static CausalLm withAdapter(BaseModel base, LoraAdapter adapter) {
        checkFits(base, adapter);
        return build(base, List.of(adapter), null);
    }

    /** Fails naming the module when one of the adapter's modules is not a linear layer of this base's shape. */
    static void checkFits(BaseModel base, LoraAdapter adapter) {
        Map<String, LinearModule> linears = new LinkedHashMap<>();
        for (LinearModule m : base.config().linearModules()) {
            linears.put(m.path(), m);
        }
        for (LoraModule m : adapter.modules().values()) {
            LinearModule own = linears.get(m.target().path());
            if (own == null) {
                throw new IllegalArgumentException("Cannot apply adapter: module " + m.target().path()
                        + " is not a linear layer of this " + base.config().modelType() + " model");
            }
            if (own.inFeatures() != m.target().inFeatures() || own.outFeatures() != m.target().outFeatures()) {
                throw new IllegalArgumentException("Cannot apply adapter: module " + m.target().path() + " is "
                        + m.target().inFeatures() + "→" + m.target().outFeatures() + ", the base layer is "
                        + own.inFeatures() + "→" + own.outFeatures());
            }
        }
    }

    /**
     * Every base tensor becomes a parameter (value = the base tensor itself, updated in place by an optimizer) with a
     * fresh zero gradient; a tied LM head accumulates into the embedding's gradient.
     */
    public static CausalLm fullWeights(BaseModel base) {
        Map<String, Parameter> params = new LinkedHashMap<>();
        base.weights().forEach((key, value) -> params.put(key, Parameter.of(key, value)));
        return build(base, List.of(), params);
    }

    private static TransformerLm build(BaseModel base, List<LoraAdapter> adapters, Map<String, Parameter> params) {
        return base.config().fold(llama -> new LlamaModel(base, adapters, params),
                gpt2 -> new Gpt2Model(base, adapters, params));
    }
}
