package io.sparklora.tokenizer;

import io.sparklora.fuzz.Fuzz;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Valid tokenizer.json files of each model type, small enough to mutate by the thousand. */
final class TokenizerSeeds {
    static final String FILE = "fuzz/tokenizer.json";

    private TokenizerSeeds() {
    }

    static List<byte[]> all() {
        BpeTrainer trainer = new BpeTrainer(300);
        String bpe = trainer.tokenizerJson(trainer.train("the quick brown fox jumps over the lazy dog; the dog sleeps. "
                .repeat(4)));
        List<byte[]> seeds = new ArrayList<>(List.of(bpe.getBytes(StandardCharsets.UTF_8)));
        seeds.addAll(Fuzz.resources("/fuzz/tokenizer", "wordlevel.json", "unigram.json", "wordpiece.json"));
        return seeds;
    }
}
