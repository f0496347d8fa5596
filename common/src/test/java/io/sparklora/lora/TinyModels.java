package io.sparklora.lora;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small configs and random weights for LoRA tests. */
public final class TinyModels {
    private TinyModels() {
    }

    /** LLaMA: hidden 32, 4 layers, 4 heads of 8 with 2 kv heads (k/v out 16), ffn 48. */
    public static LlamaConfig llama() {
        return new LlamaConfig(64, 32, 48, 4, 4, 2, 8, 64, 1e-5, 10000, false, false, false, 0.02);
    }

    /** GPT-2: n_embd 32, 4 layers, 4 heads, n_inner 48. */
    public static Gpt2Config gpt2() {
        return new Gpt2Config(64, 32, 4, 4, 64, 48, 1e-5, 0.02);
    }

    /** Every weight uniform in [-0.5, 0.5). */
    public static BaseModel randomBase(ModelConfig config, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        config.weightShapes().forEach((k, shape) -> {
            Tensor t = Tensor.zeros(shape);
            for (int i = 0; i < t.size(); i++) {
                t.set(i, rng.nextFloat() - 0.5f);
            }
            w.put(k, t);
        });
        return new BaseModel(config, w);
    }

    /** Overwrites every B with uniform values in [-0.5, 0.5) (a freshly initialised B is zero). */
    public static void randomizeB(LoraAdapter adapter, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        for (LoraModule m : adapter.modules().values()) {
            Tensor b = m.loraB().value();
            for (int i = 0; i < b.size(); i++) {
                b.set(i, rng.nextFloat() - 0.5f);
            }
        }
    }
}
