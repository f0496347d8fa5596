package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
    private static final LoraConfig BASE = LoraConfig.defaults();

    private static String message(Supplier<?> s) {
        return assertThrows(IllegalArgumentException.class, s::get).getMessage();
    }

    private static List<String> paths(List<LoraTarget> targets) {
        return targets.stream().map(t -> t.module().path()).toList();
    }

    @Test
    void validationNamesFieldAndValue() {
        assertEquals("Invalid rank 0: must be > 0", message(() -> BASE.withRank(0)));
        assertEquals("Invalid rank -3: must be > 0", message(() -> BASE.withRank(-3)));
        assertEquals("Invalid alpha 0.0: must be > 0", message(() -> BASE.withAlpha(0)));
        assertEquals("Invalid alpha NaN: must be > 0", message(() -> BASE.withAlpha(Double.NaN)));
        assertEquals("Invalid dropout 1.0: must be in [0, 1)", message(() -> BASE.withDropout(1)));
        assertEquals("Invalid dropout -0.1: must be in [0, 1)", message(() -> BASE.withDropout(-0.1)));
        assertEquals("Invalid targetModules []: name at least one module (q_proj, k_proj, v_proj, o_proj, gate_proj, "
                + "up_proj, down_proj, c_attn, c_proj, c_fc) or all-linear", message(() -> BASE.withTargetModules(List.of())));
        assertEquals("Invalid targetModules entry qproj: unknown module name; known: q_proj, k_proj, v_proj, o_proj, "
                + "gate_proj, up_proj, down_proj, c_attn, c_proj, c_fc, or all-linear",
                message(() -> BASE.withTargetModules(List.of("q_proj", "qproj"))));
        assertEquals("Invalid targetModules [all-linear, q_proj]: all-linear must be the only entry",
                message(() -> BASE.withTargetModules(List.of("all-linear", "q_proj"))));
        assertEquals("Invalid layersToTransform [1, -2]: layer index -2 is negative",
                message(() -> BASE.withLayersToTransform(List.of(1, -2), null)));
        assertEquals("Invalid layersToTransform [1]: cannot be used when target modules are a regex (.*q_proj)",
                message(() -> BASE.withTargetModulesRegex(".*q_proj").withLayersToTransform(List.of(1), null)));
        assertEquals("Invalid layersPattern layers: only meaningful with layersToTransform, which is not set",
                message(() -> BASE.withLayersToTransform(null, "layers")));
        assertEquals("Invalid rankPattern rank 0 for q_proj: must be > 0",
                message(() -> BASE.withRankPattern(Map.of("q_proj", 0))));
        assertEquals("Invalid alphaPattern alpha -1.0 for v_proj: must be > 0",
                message(() -> BASE.withAlphaPattern(Map.of("v_proj", -1.0))));
        assertEquals("Invalid targetModulesRegex (q_proj: not a regular expression (Unclosed group)",
                message(() -> BASE.withTargetModulesRegex("(q_proj")));
        assertEquals("Invalid rankPattern key [q: not a regular expression (Unclosed character class)",
                message(() -> BASE.withRankPattern(Map.of("[q", 2))));
        assertEquals("Invalid init null: must be KAIMING_UNIFORM or GAUSSIAN", message(() -> BASE.withInit(null)));
    }

    @Test
    void defaultsAndWithersKeepOtherFields() {
        LoraConfig c = BASE.withRank(4).withAlpha(8).withRslora().withSeed(7).withInit(LoraInit.GAUSSIAN);
        assertEquals(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), null, null, null, Map.of(), Map.of(), true,
                LoraInit.GAUSSIAN, 7), c);
        assertEquals(LoraInit.KAIMING_UNIFORM, BASE.init());
        assertEquals(List.of("c_attn"), LoraConfig.defaultTargets(TinyModels.gpt2()));
        // An empty layersToTransform is PEFT's "every layer".
        assertEquals(null, BASE.withLayersToTransform(List.of(), null).layersToTransform());
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("v_proj", 2);
        ranks.put("q_proj", 4);
        LoraConfig c = BASE.withRankPattern(ranks).withAlphaPattern(Map.of("q_proj", 3.0))
                .withLayersToTransform(List.of(2, 0), "layers").withSeed(99);
        var bytes = new java.io.ByteArrayOutputStream();
        try (var out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            LoraConfig back = (LoraConfig) in.readObject();
            assertEquals(c, back);
            assertEquals(List.of("v_proj", "q_proj"), List.copyOf(back.rankPattern().keySet()), "pattern order is kept");
        }
    }

    @Test
    void resolvePicksNamedModulesOfLlama() {
        List<LoraTarget> t = BASE.resolve(TinyModels.llama());
        assertEquals(8, t.size());
        assertEquals("model.layers.0.self_attn.q_proj", t.get(0).module().path());
        assertEquals("model.layers.0.self_attn.v_proj", t.get(1).module().path());
        assertEquals("model.layers.3.self_attn.v_proj", t.get(7).module().path());
        for (LoraTarget x : t) {
            assertEquals(8, x.rank());
            assertEquals(16.0, x.alpha());
            assertEquals(2.0, x.scaling());
        }
        assertEquals(16, t.get(1).module().outFeatures()); // GQA: 2 kv heads of 8
    }

    @Test
    void resolvePicksNamedModulesOfGpt2() {
        List<LoraTarget> t = BASE.withTargetModules(List.of("c_attn", "c_proj")).resolve(TinyModels.gpt2());
        assertEquals(List.of("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj"),
                paths(t.subList(0, 3)));
        assertEquals(12, t.size());
        assertEquals(48, t.get(2).module().inFeatures());
        // A dotted suffix selects only the modules it ends.
        assertEquals(List.of("transformer.h.0.mlp.c_proj", "transformer.h.1.mlp.c_proj", "transformer.h.2.mlp.c_proj",
                "transformer.h.3.mlp.c_proj"), paths(BASE.withTargetModules(List.of("mlp.c_proj")).resolve(TinyModels.gpt2())));
    }

    @Test
    void allLinearIsEveryBlockLinear() {
        LoraConfig all = BASE.withTargetModules(List.of("all-linear"));
        assertEquals(TinyModels.llama().linearModules(), all.resolve(TinyModels.llama()).stream().map(LoraTarget::module).toList());
        assertEquals(28, all.resolve(TinyModels.llama()).size());
        assertEquals(16, all.resolve(TinyModels.gpt2()).size());
    }

    @Test
    void refusesModulesTheFamilyLacks() {
        assertEquals("Cannot apply LoRA to llama model: target module c_attn does not exist; available: q_proj, k_proj, "
                + "v_proj, o_proj, gate_proj, up_proj, down_proj",
                message(() -> BASE.withTargetModules(List.of("q_proj", "c_attn")).resolve(TinyModels.llama())));
        assertEquals("Cannot apply LoRA to gpt2 model: target module q_proj does not exist; available: c_attn, c_proj, c_fc",
                message(() -> BASE.resolve(TinyModels.gpt2())));
        assertEquals("Cannot apply LoRA to llama model: target module mlp.q_proj matches no module path",
                message(() -> BASE.withTargetModules(List.of("mlp.q_proj")).resolve(TinyModels.llama())));
        assertEquals("Cannot apply LoRA to llama model: target modules model\\.layers\\.9\\..* select no module",
                message(() -> BASE.withTargetModulesRegex("model\\.layers\\.9\\..*").resolve(TinyModels.llama())));
    }

    @Test
    void refusesRankAboveMinInOut() {
        ModelConfig big = new LlamaConfig(64, 256, 512, 2, 4, 4, 64, 64, 1e-5, 10000, false, false, true, 0.02);
        assertEquals("Invalid rank 300 for model.layers.0.self_attn.q_proj: must be between 1 and min(in, out) = 256",
                message(() -> BASE.withRank(300).resolve(big)));
        // Only the layer whose rank_pattern rank is too big is named.
        assertEquals("Invalid rank 17 for model.layers.0.self_attn.v_proj: must be between 1 and min(in, out) = 16",
                message(() -> BASE.withRankPattern(Map.of("v_proj", 17)).resolve(TinyModels.llama())));
    }

    @Test
    void layersToTransformSelectsBlocks() {
        LoraConfig c = BASE.withTargetModules(List.of("q_proj")).withLayersToTransform(List.of(3, 1), null);
        assertEquals(List.of("model.layers.1.self_attn.q_proj", "model.layers.3.self_attn.q_proj"),
                paths(c.resolve(TinyModels.llama())));
        assertEquals(paths(c.resolve(TinyModels.llama())),
                paths(c.withLayersToTransform(List.of(3, 1), "layers").resolve(TinyModels.llama())));
        assertEquals(List.of("transformer.h.2.attn.c_attn"), paths(BASE.withTargetModules(List.of("c_attn"))
                .withLayersToTransform(List.of(2), "h").resolve(TinyModels.gpt2())));
        assertEquals("Cannot apply LoRA to llama model: target modules [q_proj] with layersPattern h select no module",
                message(() -> c.withLayersToTransform(List.of(1), "h").resolve(TinyModels.llama())));
        // PEFT applies layers_to_transform to names, not to full paths given in target_modules.
        assertEquals(List.of("model.layers.0.self_attn.k_proj", "model.layers.1.self_attn.q_proj",
                "model.layers.3.self_attn.q_proj"), paths(c.withTargetModules(List.of("q_proj",
                "model.layers.0.self_attn.k_proj")).resolve(TinyModels.llama())));
        assertEquals("Cannot apply LoRA to llama model: layersToTransform contains 4, but the model has 4 layers (0..3)",
                message(() -> c.withLayersToTransform(List.of(4), null).resolve(TinyModels.llama())));
    }

    @Test
    void rankAndAlphaPatternsFollowPeftKeyMatching() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("model.layers.1.self_attn.v_proj", 2); // a full path
        ranks.put("q_proj", 4);                          // a module name: matches after a dot
        ranks.put("layers.0.self_attn.q_proj", 6);      // never reached: q_proj came first and wins
        ranks.put("proj", 1);                            // matches no path: "proj" must follow a dot
        ranks.put("layers\\.[23]\\.self_attn\\.v_proj", 3); // keys are regexes
        LoraConfig c = BASE.withRankPattern(ranks).withAlphaPattern(Map.of("v_proj", 32.0));
        List<LoraTarget> t = c.resolve(TinyModels.llama());
        int[] expectedRank = {4, 8, 4, 2, 4, 3, 4, 3}; // q0 v0 q1 v1 q2 v2 q3 v3
        for (int i = 0; i < t.size(); i++) {
            LoraTarget x = t.get(i);
            assertEquals(expectedRank[i], x.rank(), x.module().path());
            double alpha = x.module().name().equals("v_proj") ? 32 : 16;
            assertEquals(alpha, x.alpha(), x.module().path());
            assertEquals(alpha / expectedRank[i], x.scaling(), 1e-12, x.module().path());
        }
    }

    @Test
    void rsloraScalesBySquareRootOfRank() {
        List<LoraTarget> t = BASE.withRank(16).withAlpha(8).withRslora().withRankPattern(Map.of("v_proj", 4))
                .resolve(TinyModels.llama());
        assertEquals(2.0, t.get(0).scaling(), 1e-12);  // 8 / √16
        assertEquals(4.0, t.get(1).scaling(), 1e-12);  // 8 / √4
        assertEquals(0.5, BASE.withRank(16).withAlpha(8).withRslora().withoutRslora().resolve(TinyModels.llama()).get(0)
                .scaling(), 1e-12);
    }

    @Test
    void regexTargetsMatchTheWholePath() {
        LoraConfig c = BASE.withTargetModulesRegex("model\\.layers\\.[02]\\.self_attn\\.(q|k)_proj");
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                "model.layers.2.self_attn.q_proj", "model.layers.2.self_attn.k_proj"), paths(c.resolve(TinyModels.llama())));
        // Full match: a regex matching only a part of the path selects nothing.
        assertEquals("Cannot apply LoRA to llama model: target modules q_proj select no module",
                message(() -> BASE.withTargetModulesRegex("q_proj").resolve(TinyModels.llama())));
    }
}
