package io.sparklora.nn;

import static io.sparklora.nn.NnTestSupport.checkGradient;
import static io.sparklora.nn.NnTestSupport.randomAdapter;
import static io.sparklora.nn.NnTestSupport.randomBase;
import static io.sparklora.nn.NnTestSupport.randomBatch;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Finite differences of the whole model's mean loss against backward, for LoRA and for full-weight training. */
class ModelGradientTest {
    private static void checkAll(CausalLm lm, Batch batch, int samplesPerTensor) {
        checkAll(lm, batch, samplesPerTensor, 1e-2f);
    }

    /** With finite-difference step h (Qwen3's q/k norms curve the loss more: a smaller step). */
    private static void checkAll(CausalLm lm, Batch batch, int samplesPerTensor, float h) {
        lm.forward(batch);
        lm.backward();
        for (Parameter p : lm.trainableParameters()) {
            checkGradient(p.name(), p.value().data(), p.value().size(), p.grad().data(), () -> lm.forward(batch),
                    samplesPerTensor, h, 2e-2, 2e-3);
        }
    }

    private static void loraGradients(ModelConfig config) {
        loraGradients(config, 1e-2f);
    }

    private static void loraGradients(ModelConfig config, float h) {
        BaseModel base = randomBase(config, 91, 0.3);
        LoraAdapter adapter = randomAdapter(config, null, 2, 0f, 92, 0.3);
        CausalLm lm = CausalLms.withAdapter(base, adapter);
        assertEquals(adapter.parameters(), lm.trainableParameters());
        checkAll(lm, randomBatch(2, 6, config.vocabSize(), 93), 12, h);
    }

    private static void fullGradients(ModelConfig config) {
        fullGradients(config, 1e-2f);
    }

    private static void fullGradients(ModelConfig config, float h) {
        BaseModel base = randomBase(config, 94, 0.3);
        CausalLm lm = CausalLms.fullWeights(base);
        List<Parameter> params = lm.trainableParameters();
        assertEquals(base.weights().size(), params.size());
        for (Parameter p : params) {
            assertEquals(base.weight(p.name()), p.value(), "the parameter is the base tensor itself");
        }
        checkAll(lm, randomBatch(2, 6, config.vocabSize(), 95), 8, h);
    }

    @Test
    void llamaLoraGradients() {
        loraGradients(ModelTest.LLAMA);
    }

    @Test
    void gpt2LoraGradients() {
        loraGradients(ModelTest.GPT2);
    }

    @Test
    void llamaFullWeightGradients() {
        fullGradients(ModelTest.LLAMA);
    }

    /** Tied head: the embedding's gradient carries both the lookup and the head. */
    @Test
    void tiedLlamaFullWeightGradients() {
        fullGradients(ModelTest.LLAMA_TIED);
    }

    /** Qwen3: the q/k norms between the projections and RoPE, their weights trained in full-weight mode. */
    @Test
    void qwen3LoraAndFullWeightGradients() {
        loraGradients(ModelTest.QWEN3, 3e-3f);
        fullGradients(ModelTest.QWEN3, 3e-3f);
    }

    /** Qwen2's q/k/v biases (trained only in full-weight mode) and llama3 RoPE scaling. */
    @Test
    void qwen2LoraAndFullWeightGradients() {
        loraGradients(ModelTest.QWEN2);
        fullGradients(ModelTest.QWEN2);
    }

    @Test
    void gpt2FullWeightGradients() {
        fullGradients(ModelTest.GPT2);
    }

    /** The benchmark's adapter shape: q_proj and v_proj only (c_attn for GPT-2), so the MLPs keep no input. */
    @Test
    void attentionOnlyAdapterGradients() {
        for (ModelConfig config : List.of(ModelTest.LLAMA, ModelTest.GPT2)) {
            BaseModel base = randomBase(config, 105, 0.3);
            LoraAdapter adapter = randomAdapter(config, java.util.Set.of("q_proj", "v_proj", "c_attn"), 2, 0f, 106,
                    0.3);
            checkAll(CausalLms.withAdapter(base, adapter), randomBatch(2, 6, config.vocabSize(), 107), 12);
        }
    }

    /** Training mode with LoRA dropout: each evaluation replays the same masks by restoring the rng state. */
    @Test
    void llamaLoraGradientsWithDropout() {
        BaseModel base = randomBase(ModelTest.LLAMA, 102, 0.3);
        CausalLm lm = CausalLms.withAdapter(base, randomAdapter(ModelTest.LLAMA, null, 2, 0.25f, 103, 0.3));
        lm.train();
        Batch batch = randomBatch(2, 6, 19, 104);
        long state = lm.dropoutRng().state();
        java.util.function.DoubleSupplier loss = () -> {
            lm.dropoutRng().setState(state);
            return lm.forward(batch);
        };
        loss.getAsDouble();
        lm.backward();
        for (Parameter p : lm.trainableParameters()) {
            checkGradient(p.name(), p.value().data(), p.value().size(), p.grad().data(), loss, 12, 1e-2f, 2e-2,
                    2e-3);
        }
    }

    /** An adapter on the upper block only: backward stops there and the gradients are still exact. */
    @Test
    void upperBlockOnlyAdapterGradients() {
        for (ModelConfig config : List.of(ModelTest.LLAMA, ModelTest.GPT2)) {
            BaseModel base = randomBase(config, 99, 0.3);
            List<io.sparklora.lora.LoraModule> upper = randomAdapter(config, null, 2, 0f, 100, 0.3).modules().values()
                    .stream().filter(m -> m.target().layer() == 1).toList();
            CausalLm lm = CausalLms.withAdapter(base, new LoraAdapter(null, upper));
            checkAll(lm, randomBatch(2, 6, config.vocabSize(), 101), 12);
        }
    }

    /** backward() adds: two backward passes of the same forward give twice the gradient. */
    @Test
    void backwardAccumulates() {
        BaseModel base = randomBase(ModelTest.GPT2, 96, 0.3);
        CausalLm lm = CausalLms.withAdapter(base, randomAdapter(ModelTest.GPT2, null, 2, 0f, 97, 0.3));
        lm.forward(randomBatch(1, 5, 19, 98));
        lm.backward();
        float[] once = lm.trainableParameters().get(0).grad().toArray();
        lm.backward();
        float[] twice = lm.trainableParameters().get(0).grad().toArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-6 * Math.max(1, Math.abs(once[i])));
        }
    }
}
