package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** The planner's default {@code --adapters-per-task}: 4 only in the regime the rule names, each condition alone. */
class DefaultAdaptersPerTaskTest {
    static final ModelConfig LLAMA = new LlamaConfig(256, 32, 64, 1, 4, 2, 8, 64, 1e-5, 10000, false, false, false,
            0.2);
    static final ModelConfig GPT2 = new Gpt2Config(256, 32, 2, 4, 64, 128, 1e-5, 0.02);

    static TrainSpec.Builder spec(int batch, int seq) {
        return TrainSpec.lora("adapter", LoraConfig.defaults()).batchSize(batch).seqLen(seq).steps(20)
                .checkpointEvery(50);
    }

    static int k(ModelConfig config, TrainSpec spec, int adapters, int parallelism) {
        return SparkTrainJob.defaultAdaptersPerTask(config, spec, adapters, parallelism);
    }

    @Test
    void fourOnlyForSmallBatchesOverLlamaWithKnownStepsAndAGroupPerCore() {
        assertEquals(4, k(LLAMA, spec(1, 128).build(), 8, 2));
        assertEquals(4, k(LLAMA, spec(2, 128).build(), 8, 2)); // batch × seq = 256: still small
        assertEquals(4, k(LLAMA, spec(1, 128).checkpointEvery(0).build(), 8, 2)); // at the end only
        assertEquals(4, k(LLAMA, spec(1, 128).build(), 5, 2)); // ⌈5 / 4⌉ = 2 groups for 2 cores

        assertEquals(1, k(LLAMA, spec(4, 128).build(), 8, 2)); // 512 rows: fusing gains nothing there
        assertEquals(1, k(GPT2, spec(1, 128).build(), 8, 2)); // the fused model is LLaMA-only
        assertEquals(4, k(LLAMA, spec(1, 128).steps(100).build(), 8, 2)); // a checkpoint at step 50: fused too
        assertEquals(1, k(LLAMA, TrainSpec.lora("adapter", LoraConfig.defaults()).batchSize(1).seqLen(128)
                .epochs(1).checkpointEvery(50).build(), 8, 2)); // --epochs: the steps are not known here
        assertEquals(1, k(LLAMA, spec(1, 128).build(), 4, 2)); // one group would leave a core idle
        assertEquals(1, k(LLAMA, spec(1, 128).build(), 28, 8)); // 7 groups, 8 cores
        assertEquals(4, k(LLAMA, spec(1, 128).build(), 29, 8)); // ⌈29 / 4⌉ = 8
    }
}
