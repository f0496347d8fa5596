package io.sparklora.job;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.List;

/** A tiny LLaMA over bytes and a learnable corpus, shared by the trainer tests. */
final class TrainerFixtures {
    /**
     * Byte vocabulary, hidden 32, ffn 64, 2 layers, 4 heads (2 KV heads), head dim 8, 64 positions. The weights are
     * drawn with std 0.2 rather than HF's 0.02: with a frozen random LM head of std 0.02 and a final RMSNorm, no LoRA
     * update can push a logit past about 0.02·32 = 0.6, so the loss could not fall below ~4.9 whatever LoRA learns.
     */
    static final LlamaConfig TINY_LLAMA = new LlamaConfig(256, 32, 64, 2, 4, 2, 8, 64, 1e-5, 10000, false, false,
            false, 0.2);
    static final String SENTENCE = "the cat sat on the mat. ";

    private TrainerFixtures() {
    }

    /** A progress listener that ignores the steps and adds every notice to {@code notices}. */
    static TrainProgress noticesInto(List<String> notices) {
        return new TrainProgress() {
            @Override
            public void onStep(StepReport report) {
            }

            @Override
            public void onNotice(String message) {
                notices.add(message);
            }
        };
    }

    static BaseModel tinyBase() {
        return Checkpoints.random(TINY_LLAMA, 7);
    }

    /** {@code rows} rows, each the sentence repeated {@code repeats} times. */
    static List<Example> repeatedSentence(int rows, int repeats) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            out.add(Example.text(SENTENCE.repeat(repeats)));
        }
        return out;
    }

    static PackedData pack(String adapter, List<Example> rows, int seq, double heldOut, long seed) {
        return new WindowPacker(new ByteTokenizer(), seq).pack(adapter, rows.iterator(), heldOut, seed);
    }

    static LoraConfig loraAllLinear(int rank, double dropout) {
        return LoraConfig.defaults().withRank(rank).withAlpha(2.0 * rank).withDropout(dropout)
                .withTargetModules(List.of(LoraConfig.ALL_LINEAR)).withSeed(11);
    }

    static LoraAdapter adapter(LoraConfig c) {
        return LoraAdapter.initialize(c, TINY_LLAMA);
    }
}
