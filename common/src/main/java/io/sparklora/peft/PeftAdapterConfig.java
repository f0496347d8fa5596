package io.sparklora.peft;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraInit;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code adapter_config.json} as PEFT's {@code LoraConfig.save_pretrained} writes it (keys sorted, as PEFT's
 * {@code json.dumps(..., sort_keys=True)}), and back. Written: the fields PEFT's {@code LoraConfig} declares that
 * vLLM and LoRAX read, with PEFT's defaults for the features we do not use (DoRA, LoRA bias, Megatron). Read: the
 * fields that change what the tensors mean; a feature we cannot honour (DoRA, trained biases, modules_to_save, PiSSA
 * and the other inits that rewrite the base weights) is refused rather than ignored.
 */
final class PeftAdapterConfig {
    static final String FILE = "adapter_config.json";

    private PeftAdapterConfig() {
    }

    /**
     * The JSON object for {@code config}. {@code targetNames} is what {@code target_modules} lists when the config
     * names modules (sorted; {@code all-linear} expanded to the names actually adapted, as PEFT saves it).
     */
    static Map<String, Object> toJson(LoraConfig config, List<String> targetNames, boolean fanInFanOut,
                                      String baseModelNameOrPath) {
        Map<String, Object> j = new TreeMap<>();
        j.put("peft_type", "LORA");
        j.put("task_type", "CAUSAL_LM");
        j.put("base_model_name_or_path", baseModelNameOrPath);
        j.put("revision", null);
        j.put("inference_mode", true);
        j.put("r", config.rank());
        j.put("lora_alpha", number(config.alpha()));
        j.put("lora_dropout", config.dropout());
        j.put("target_modules", config.targetModulesRegex() != null ? config.targetModulesRegex() : targetNames);
        j.put("bias", "none");
        j.put("fan_in_fan_out", fanInFanOut);
        j.put("use_rslora", config.useRslora());
        j.put("use_dora", false);
        j.put("init_lora_weights", config.init() == LoraInit.GAUSSIAN ? "gaussian" : (Object) true);
        j.put("layers_to_transform", config.layersToTransform());
        j.put("layers_pattern", config.layersPattern());
        j.put("rank_pattern", config.rankPattern());
        Map<String, Object> alphas = new LinkedHashMap<>();
        config.alphaPattern().forEach((k, v) -> alphas.put(k, number(v)));
        j.put("alpha_pattern", alphas);
        j.put("modules_to_save", null);
        // No "lora_bias": PEFT before 0.14 builds LoraConfig(**fields) and fails on a field it does not know.
        j.put("megatron_config", null);
        j.put("megatron_core", "megatron.core");
        j.put("auto_mapping", null);
        return j;
    }

    /** 16 rather than 16.0 for integral alphas, as PEFT users write them. */
    private static Object number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (Object) (long) v : (Object) v;
    }

    /**
     * The config a PEFT-written {@code adapter_config.json} describes, for a base of family {@code base}. Problems are
     * reported as {@code "<field> ..."}; the caller prefixes the adapter directory.
     */
    static LoraConfig fromJson(JsonNode j, ModelConfig base) {
        if (!j.isObject()) {
            throw new IllegalArgumentException("the JSON value is not an object");
        }
        String peftType = text(j, "peft_type", null);
        if (!"LORA".equals(peftType)) {
            throw new IllegalArgumentException("peft_type is " + peftType + ", only LORA is supported");
        }
        String taskType = text(j, "task_type", "CAUSAL_LM");
        if (!"CAUSAL_LM".equals(taskType)) {
            throw new IllegalArgumentException("task_type is " + taskType + ", only CAUSAL_LM is supported");
        }
        String bias = text(j, "bias", "none");
        if (!"none".equals(bias)) {
            throw new IllegalArgumentException("bias is " + bias + ", only none is supported (no trained biases)");
        }
        refuseIfSet(j, "use_dora", "DoRA is not supported");
        refuseIfSet(j, "lora_bias", "LoRA biases are not supported");
        JsonNode toSave = j.path("modules_to_save");
        if (!toSave.isMissingNode() && !toSave.isNull() && !(toSave.isArray() && toSave.isEmpty())) {
            throw new IllegalArgumentException("modules_to_save is " + toSave + ", fully trained modules are not supported");
        }
        boolean conv1d = base.linearModules().get(0).layout() == WeightLayout.IN_OUT;
        boolean fanInFanOut = bool(j, "fan_in_fan_out", false);
        if (fanInFanOut != conv1d) {
            throw new IllegalArgumentException("fan_in_fan_out is " + fanInFanOut + ", but a " + base.modelType()
                    + " base stores its weights " + (conv1d ? "(in, out): it must be true" : "(out, in): it must be false"));
        }
        JsonNode r = j.path("r");
        if (!r.isIntegralNumber() || !r.canConvertToInt()) {
            throw new IllegalArgumentException("r is " + (r.isMissingNode() ? "missing" : r.toString())
                    + ", expected an integer");
        }
        LoraConfig c = LoraConfig.defaults().withRank(r.intValue()).withAlpha(dbl(j, "lora_alpha", 8))
                .withDropout(dbl(j, "lora_dropout", 0)).withInit(init(j.path("init_lora_weights")));
        c = bool(j, "use_rslora", false) ? c.withRslora() : c;
        JsonNode targets = j.path("target_modules");
        if (targets.isTextual()) {
            c = targets.asText().equals(LoraConfig.ALL_LINEAR) ? c.withTargetModules(List.of(LoraConfig.ALL_LINEAR))
                    : c.withTargetModulesRegex(targets.asText());
        } else if (targets.isArray()) {
            c = c.withTargetModules(strings(targets, "target_modules"));
        } else {
            throw new IllegalArgumentException("target_modules is " + (targets.isMissingNode() ? "missing" : targets)
                    + ", expected a list of module names or a regex");
        }
        c = c.withLayersToTransform(layers(j.path("layers_to_transform")), layersPattern(j.path("layers_pattern")));
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : fields(j, "rank_pattern")) {
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                throw new IllegalArgumentException("rank_pattern value for " + e.getKey() + " is " + e.getValue()
                        + ", expected an integer");
            }
            ranks.put(e.getKey(), e.getValue().intValue());
        }
        Map<String, Double> alphas = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : fields(j, "alpha_pattern")) {
            if (!e.getValue().isNumber()) {
                throw new IllegalArgumentException("alpha_pattern value for " + e.getKey() + " is " + e.getValue()
                        + ", expected a number");
            }
            alphas.put(e.getKey(), e.getValue().doubleValue());
        }
        return c.withRankPattern(ranks).withAlphaPattern(alphas);
    }

    private static LoraInit init(JsonNode n) {
        if (n.isMissingNode() || n.isNull() || n.isBoolean()) {
            // true is kaiming-uniform; false (A and B both random, a PEFT testing aid) is only how training started:
            // the tensors are in the file either way.
            return LoraInit.KAIMING_UNIFORM;
        }
        if (n.isTextual() && n.asText().equals("gaussian")) {
            return LoraInit.GAUSSIAN;
        }
        throw new IllegalArgumentException("init_lora_weights is " + n + ", only true, false and \"gaussian\" are "
                + "supported (PiSSA, OLoRA, LoftQ, EVA and CorDA adapters need their modified base weights)");
    }

    private static List<Integer> layers(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        if (n.isIntegralNumber() && n.canConvertToInt()) {
            return List.of(n.intValue());
        }
        if (n.isArray()) {
            List<Integer> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                    throw new IllegalArgumentException("layers_to_transform is " + n + ", expected integers");
                }
                out.add(e.intValue());
            }
            return out;
        }
        throw new IllegalArgumentException("layers_to_transform is " + n + ", expected an integer or a list of them");
    }

    private static String layersPattern(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isArray() && n.size() == 1 && n.get(0).isTextual()) {
            return n.get(0).asText();
        }
        throw new IllegalArgumentException("layers_pattern is " + n + ", expected one string");
    }

    private static void refuseIfSet(JsonNode j, String field, String why) {
        if (bool(j, field, false)) {
            throw new IllegalArgumentException(field + " is true: " + why);
        }
    }

    private static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode j, String field) {
        JsonNode n = j.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException(field + " is " + n + ", expected an object");
        }
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    private static List<String> strings(JsonNode n, String field) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new IllegalArgumentException(field + " is " + n + ", expected strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    private static String text(JsonNode j, String field, String dflt) {
        JsonNode n = j.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new IllegalArgumentException(field + " is " + n + ", expected a string");
        }
        return n.asText();
    }

    private static boolean bool(JsonNode j, String field, boolean dflt) {
        JsonNode n = j.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(field + " is " + n + ", expected true or false");
        }
        return n.booleanValue();
    }

    private static double dbl(JsonNode j, String field, double dflt) {
        JsonNode n = j.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException(field + " is " + n + ", expected a number");
        }
        return n.doubleValue();
    }
}
