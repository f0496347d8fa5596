package io.sparklora.lora;

import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What to adapt and how, as PEFT's {@code LoraConfig} (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
 * Models"; rsLoRA: Kalajdzievski 2023, "A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA"). Immutable and
 * serializable (it travels inside job specs); start from {@link #defaults()} and change fields with the {@code with…}
 * methods.
 *
 * @param rank              r, the default rank of every update
 * @param alpha             lora_alpha; scaling is alpha/rank, or alpha/√rank with rsLoRA
 * @param dropout           lora_dropout, applied to the LoRA branch input only, in [0, 1)
 * @param targetModules     target_modules as a set (stored sorted): Hugging Face module names ({@code q_proj}, {@code c_attn}, …) or
 *                          dotted suffixes of module paths ending in one, or the single value {@code all-linear} (every
 *                          linear layer of the blocks, not the LM head); empty when {@code targetModulesRegex} is set
 * @param targetModulesRegex target_modules as a string: a regex that selects the module paths it matches in full; null
 *                          when {@code targetModules} is used
 * @param layersToTransform layers_to_transform: block indexes to adapt, or null for all blocks
 * @param layersPattern     layers_pattern: the path component before the block index ({@code layers}, {@code h}), or
 *                          null to take the first number in the path
 * @param rankPattern       rank_pattern: regex key → rank for the modules it matches (first matching key wins)
 * @param alphaPattern      alpha_pattern: regex key → alpha, matched the same way
 * @param useRslora         use_rslora: scaling alpha/√rank instead of alpha/rank
 * @param init              how A is initialised (init_lora_weights)
 * @param seed              seed of A's initialisation (each module draws from its own stream, keyed by its path)
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules, String targetModulesRegex,
                         List<Integer> layersToTransform, String layersPattern, Map<String, Integer> rankPattern,
                         Map<String, Double> alphaPattern, boolean useRslora, LoraInit init, long seed)
        implements Serializable {
    /** PEFT's shorthand for every linear layer except the output head. */
    public static final String ALL_LINEAR = "all-linear";
    /** Module names of the supported families (LLaMA, then GPT-2). */
    public static final List<String> KNOWN_MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj", "c_attn", "c_proj", "c_fc");

    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("Invalid rank " + rank + ": must be > 0");
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("Invalid alpha " + alpha + ": must be > 0");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("Invalid dropout " + dropout + ": must be in [0, 1)");
        }
        // A set, as in PEFT; kept sorted so equal selections compare equal and serialise alike.
        targetModules = targetModules == null ? List.of() : List.copyOf(new TreeSet<>(targetModules));
        if (targetModulesRegex == null) {
            checkTargetNames(targetModules);
        } else {
            if (!targetModules.isEmpty()) {
                throw new IllegalArgumentException("Invalid targetModules " + targetModules + ": give module names or "
                        + "a regex (" + targetModulesRegex + "), not both");
            }
            PeftMatch.checkRegexes("targetModulesRegex", List.of(targetModulesRegex));
        }
        if (layersToTransform != null && layersToTransform.isEmpty()) {
            layersToTransform = null; // PEFT: an empty list means every layer
        }
        if (layersToTransform != null) {
            layersToTransform = List.copyOf(layersToTransform);
            for (int layer : layersToTransform) {
                if (layer < 0) {
                    throw new IllegalArgumentException("Invalid layersToTransform " + layersToTransform
                            + ": layer index " + layer + " is negative");
                }
            }
        }
        if (layersPattern != null && layersPattern.isEmpty()) {
            layersPattern = null;
        }
        if (layersPattern != null) {
            PeftMatch.checkRegexes("layersPattern", List.of(layersPattern));
            if (layersToTransform == null) {
                throw new IllegalArgumentException("Invalid layersPattern " + layersPattern
                        + ": only meaningful with layersToTransform, which is not set");
            }
        }
        if (targetModulesRegex != null && layersToTransform != null) {
            throw new IllegalArgumentException("Invalid layersToTransform " + layersToTransform
                    + ": cannot be used when target modules are a regex (" + targetModulesRegex + ")");
        }
        rankPattern = orderedCopy(rankPattern);
        alphaPattern = orderedCopy(alphaPattern);
        PeftMatch.checkRegexes("rankPattern key", rankPattern.keySet());
        PeftMatch.checkRegexes("alphaPattern key", alphaPattern.keySet());
        rankPattern.forEach((k, v) -> {
            if (v == null || v <= 0) {
                throw new IllegalArgumentException("Invalid rankPattern rank " + v + " for " + k + ": must be > 0");
            }
        });
        alphaPattern.forEach((k, v) -> {
            if (v == null || !(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException("Invalid alphaPattern alpha " + v + " for " + k + ": must be > 0");
            }
        });
        if (init == null) {
            throw new IllegalArgumentException("Invalid init null: must be KAIMING_UNIFORM or GAUSSIAN");
        }
    }

    private static void checkTargetNames(List<String> targets) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("Invalid targetModules []: name at least one module ("
                    + String.join(", ", KNOWN_MODULES) + ") or " + ALL_LINEAR);
        }
        for (String t : targets) {
            if (t.equals(ALL_LINEAR)) {
                if (targets.size() != 1) {
                    throw new IllegalArgumentException("Invalid targetModules " + targets + ": " + ALL_LINEAR
                            + " must be the only entry");
                }
            } else if (!KNOWN_MODULES.contains(t.substring(t.lastIndexOf('.') + 1))) {
                throw new IllegalArgumentException("Invalid targetModules entry " + t + ": unknown module name; known: "
                        + String.join(", ", KNOWN_MODULES) + ", or " + ALL_LINEAR);
            }
        }
    }

    private static <V> Map<String, V> orderedCopy(Map<String, V> m) {
        return m == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    /** r = 8, alpha = 16, no dropout, q_proj and v_proj (PEFT's LLaMA default), every layer, kaiming-uniform A, seed 0. */
    public static LoraConfig defaults() {
        return new LoraConfig(8, 16, 0, List.of("q_proj", "v_proj"), null, null, null, Map.of(), Map.of(), false,
                LoraInit.KAIMING_UNIFORM, 0L);
    }

    /** PEFT's default target modules for a family: q_proj and v_proj for the LLaMA block, c_attn for GPT-2. */
    public static List<String> defaultTargets(ModelConfig model) {
        return model.defaultTargetModules();
    }

    public LoraConfig withRank(int r) {
        return new LoraConfig(r, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, init, seed);
    }

    public LoraConfig withAlpha(double a) {
        return new LoraConfig(rank, a, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, init, seed);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(rank, alpha, p, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, init, seed);
    }

    /** Targets by module name (or {@code all-linear}); clears a regex target. */
    public LoraConfig withTargetModules(List<String> names) {
        return new LoraConfig(rank, alpha, dropout, names, null, layersToTransform, layersPattern, rankPattern,
                alphaPattern, useRslora, init, seed);
    }

    /** Targets the module paths a regex matches in full; clears the name list. */
    public LoraConfig withTargetModulesRegex(String regex) {
        return new LoraConfig(rank, alpha, dropout, List.of(), regex, layersToTransform, layersPattern, rankPattern,
                alphaPattern, useRslora, init, seed);
    }

    /** Restricts the update to these blocks (null or empty: all), found after {@code layersPattern} in the path. */
    public LoraConfig withLayersToTransform(List<Integer> layers, String pattern) {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layers, pattern, rankPattern,
                alphaPattern, useRslora, init, seed);
    }

    public LoraConfig withRankPattern(Map<String, Integer> pattern) {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                pattern, alphaPattern, useRslora, init, seed);
    }

    public LoraConfig withAlphaPattern(Map<String, Double> pattern) {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, pattern, useRslora, init, seed);
    }

    /** Scaling alpha/√rank (rsLoRA). */
    public LoraConfig withRslora() {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, true, init, seed);
    }

    /** Scaling alpha/rank (the original LoRA). */
    public LoraConfig withoutRslora() {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, false, init, seed);
    }

    public LoraConfig withInit(LoraInit i) {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, i, seed);
    }

    public LoraConfig withSeed(long s) {
        return new LoraConfig(rank, alpha, dropout, targetModules, targetModulesRegex, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, init, s);
    }

    /** Whether the targets are {@code all-linear}. */
    public boolean allLinear() {
        return targetModules.equals(List.of(ALL_LINEAR));
    }

    /**
     * The linear layers of {@code model} this config adapts, in checkpoint order, each with the rank and alpha that
     * apply to it (first matching {@code rankPattern}/{@code alphaPattern} key, PEFT's rule) and its scaling. Refuses
     * target names the family does not have, block indexes it does not have, a selection that is empty, and ranks
     * above min(in, out).
     */
    public List<LoraTarget> resolve(ModelConfig model) {
        List<LinearModule> all = model.linearModules();
        Set<String> names = new LinkedHashSet<>();
        all.forEach(m -> names.add(m.name()));
        String cannot = "Cannot apply LoRA to " + model.modelType() + " model: ";
        if (targetModulesRegex == null && !allLinear()) {
            for (String t : targetModules) {
                String name = t.substring(t.lastIndexOf('.') + 1);
                if (!names.contains(name)) {
                    throw new IllegalArgumentException(cannot + "target module " + t + " does not exist; available: "
                            + String.join(", ", names));
                }
                if (all.stream().noneMatch(m -> PeftMatch.listSelects(List.of(t), m.path()))) {
                    throw new IllegalArgumentException(cannot + "target module " + t + " matches no module path");
                }
            }
        }
        if (layersToTransform != null) {
            for (int layer : layersToTransform) {
                if (layer >= model.numLayers()) {
                    throw new IllegalArgumentException(cannot + "layersToTransform contains " + layer
                            + ", but the model has " + model.numLayers() + " layers (0.." + (model.numLayers() - 1) + ")");
                }
            }
        }
        List<LoraTarget> out = new ArrayList<>();
        for (LinearModule m : all) {
            LoraTarget t = targetOf(m);
            if (t != null) {
                out.add(t);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(cannot + "target modules "
                    + (targetModulesRegex != null ? targetModulesRegex : targetModules)
                    + (layersPattern != null ? " with layersPattern " + layersPattern : "") + " select no module");
        }
        return out;
    }

    /**
     * The rank, alpha and scaling this config gives {@code module}, or null when it does not adapt it (checks the
     * module alone: {@link #resolve} also checks the config against the whole model).
     */
    public LoraTarget targetOf(LinearModule module) {
        if (!selects(module.path())) {
            return null;
        }
        String rankKey = PeftMatch.patternKey(rankPattern.keySet(), module.path());
        String alphaKey = PeftMatch.patternKey(alphaPattern.keySet(), module.path());
        int r = rankKey == null ? rank : rankPattern.get(rankKey);
        double a = alphaKey == null ? alpha : alphaPattern.get(alphaKey);
        return new LoraTarget(module, r, a, useRslora ? a / Math.sqrt(r) : a / r);
    }

    private boolean selects(String path) {
        if (targetModulesRegex != null) {
            return PeftMatch.regexSelects(targetModulesRegex, path);
        }
        if (targetModules.contains(path)) {
            return true; // PEFT: a full path is taken as given, layersToTransform does not filter it
        }
        if (!allLinear() && !PeftMatch.listSelects(targetModules, path)) {
            return false;
        }
        return layersToTransform == null || layersToTransform.contains(PeftMatch.layerIndex(path, layersPattern));
    }
}
