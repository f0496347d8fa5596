package io.sparklora.model;

import io.sparklora.fuzz.Fuzz;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@code config.json} parsing over mutants of one config per family and feature (rope_scaling,
 * rope_parameters, sliding windows, layer_types): each parses into a config whose derived shapes can be listed, or
 * fails with an IllegalArgumentException naming the file (see {@link Fuzz}).
 */
class ModelConfigFuzzTest {
    private static final String FILE = "fuzz/config.json";

    @Test
    void mutatedConfigs() {
        Fuzz.run("config.json", 20_000, Fuzz.resources("/fuzz/config", "llama.json", "gpt2.json", "qwen3.json",
                "mistral.json", "llama3-rope.json", "qwen2-params.json"), true, FILE, input -> {
                    ModelConfig c = Checkpoints.parseConfig(new String(input, StandardCharsets.UTF_8), FILE);
                    c.linearModules().forEach(LinearModule::path);
                    c.maxPositions();
                    c.defaultTargetModules();
                }, IllegalArgumentException.class);
    }
}
