package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.job.TrainSpec;
import io.sparklora.model.LlamaConfig;
import org.junit.jupiter.api.Test;

/** The pre-flight of train --full on the shape of Llama-2-7B, whose parameter count Meta publishes. */
class FullMemoryPlanTest {
    // meta-llama/Llama-2-7b-hf config.json: 32000 vocab, 4096 hidden, 11008 ffn, 32 layers, 32 heads, untied head
    static final LlamaConfig LLAMA2_7B = new LlamaConfig(32000, 4096, 11008, 32, 32, 32, 128, 4096, 1e-5, 10000,
            false, false, false, 0.02);

    @Test
    void llama7bDoesNotFitSixteenGibAndTheMessageGivesTheNumbers() {
        // 6,738,415,616: the count transformers' num_parameters() reports for Llama-2-7b-hf
        assertEquals(6_738_415_616L, FullMemoryPlan.parameters(LLAMA2_7B));
        TrainSpec spec = TrainSpec.fullWeights("m").batchSize(1).seqLen(512).steps(1).build();
        FullMemoryPlan plan = FullMemoryPlan.of(LLAMA2_7B, spec, 2, 16L << 30);
        assertFalse(plan.fits());
        assertTrue(plan.perTaskBytes() > 16 * 6_738_415_616L, "weights, gradients, m and v at least");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.check("each executor"));
        assertTrue(e.getMessage().startsWith("Cannot train --full: each executor needs about "), e.getMessage());
        assertTrue(e.getMessage().contains("2 task(s) at once"), e.getMessage());
        assertTrue(e.getMessage().contains("6,738,415,616 parameters × 16 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("but has 16384.0 MiB"), e.getMessage());
    }

    @Test
    void aTinyModelFits() {
        LlamaConfig tiny = new LlamaConfig(256, 32, 64, 1, 4, 2, 8, 64, 1e-5, 10000, false, false, false, 0.2);
        FullMemoryPlan plan = FullMemoryPlan.of(tiny, TrainSpec.fullWeights("m").batchSize(4).seqLen(32).steps(1)
                .build(), 2, 256L << 20);
        assertTrue(plan.fits(), plan.toString());
        plan.check("each executor");
        assertEquals(plan.sharedBytes() + 2 * plan.perTaskBytes(), plan.neededBytes());
    }
}
