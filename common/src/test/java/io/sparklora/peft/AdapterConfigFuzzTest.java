package io.sparklora.peft;

import io.sparklora.fuzz.Fuzz;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.TinyModels;
import io.sparklora.model.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes {@code adapter_config.json} over mutants of configs that all describe one adapter (rank 2 on q_proj and
 * v_proj of every layer) in different spellings: a name list, a regex, rank/alpha patterns, layers_to_transform. Each
 * mutant reads together with the unchanged weights, or fails with an IOException naming the adapter directory —
 * regexes included: a pathological {@code target_modules} pattern must fail, not hang (see {@link Fuzz}).
 */
class AdapterConfigFuzzTest {
    @TempDir
    Path tmp;

    @Test
    void mutatedAdapterConfigs() throws IOException {
        LlamaConfig base = TinyModels.llama();
        LoraConfig plain = LoraConfig.defaults().withRank(2).withTargetModules(List.of("q_proj", "v_proj"));
        List<LoraConfig> spellings = List.of(plain,
                plain.withTargetModulesRegex("model\\.layers\\.\\d+\\.self_attn\\.(q|v)_proj"),
                plain.withRankPattern(Map.of("q_proj", 2)).withAlphaPattern(Map.of("v_proj", 16.0)).withSeed(3),
                plain.withLayersToTransform(List.of(0, 1, 2, 3), "layers")
                        .withRankPattern(Map.of("layers\\.[0-3]\\.self_attn\\.v_proj", 2)));
        LoraAdapter adapter = LoraAdapter.initialize(plain, base);
        TinyModels.randomizeB(adapter, 7);
        List<byte[]> seeds = new ArrayList<>();
        Path dir = tmp.resolve("adapter");
        for (LoraConfig c : spellings) {
            PeftAdapters.write(dir, new LoraAdapter(c, List.copyOf(adapter.modules().values())), "/models/tiny");
            seeds.add(Files.readAllBytes(dir.resolve(PeftAdapterConfig.FILE)));
        }
        Path config = dir.resolve(PeftAdapterConfig.FILE);
        Fuzz.run("adapter_config.json", 10_000, seeds, true, dir.toString(), input -> {
            Files.write(config, input);
            PeftAdapters.read(dir, base);
        }, IOException.class);
    }
}
