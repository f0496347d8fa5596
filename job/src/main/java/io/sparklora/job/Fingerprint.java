package io.sparklora.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.lora.LoraConfig;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What made an adapter, as three SHA-256 digests (lowercase hex): the base model directory, every setting that
 * changes the trained weights (the tokenizer included), and the adapter's rows (an order-independent digest computed
 * by the driver). A re-run skips an adapter only when all three match; checkpoints carry {@link #combined()} so a run
 * never resumes one written over another base, settings or data.
 *
 * <p>Settings that do not change the weights — how often to evaluate or checkpoint, progress lines — are left out, so
 * changing them retrains nothing (a resumed run computes the same bits as an uninterrupted one).
 *
 * @param baseModel the base model directory's hash ({@code io.sparklora.util.Hashing})
 * @param settings  the hash of {@link #settingsOf}'s canonical JSON
 * @param data      the digest of the adapter's rows
 */
public record Fingerprint(String baseModel, String settings, String data) implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Bumped when the meaning of a digest changes: every adapter written before then retrains once. */
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public Fingerprint {
        for (String[] f : new String[][] {{"baseModel", baseModel}, {"settings", settings}, {"data", data}}) {
            if (f[1] == null || !f[1].matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("Invalid fingerprint " + f[0] + " " + f[1]
                        + ": must be 64 lowercase hex digits (SHA-256)");
            }
        }
    }

    /** One digest of all three. */
    public String combined() {
        return sha256("spark-lora fingerprint v" + VERSION + "\n" + baseModel + "\n" + settings + "\n" + data);
    }

    /** The parts that differ from {@code previous}, in words ("base model", "settings", "data"); empty when equal. */
    public List<String> differencesFrom(Fingerprint previous) {
        List<String> out = new ArrayList<>();
        if (!baseModel.equals(previous.baseModel)) {
            out.add("base model");
        }
        if (!settings.equals(previous.settings)) {
            out.add("settings");
        }
        if (!data.equals(previous.data)) {
            out.add("data");
        }
        return out;
    }

    /** The settings digest of a spec (its adapter name left out) and a tokenizer digest. */
    public static String settingsOf(TrainSpec spec, String tokenizer) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("mode", spec.mode().name());
        m.put("steps", spec.steps());
        m.put("epochs", spec.epochs());
        m.put("batch_size", spec.batchSize());
        m.put("seq_len", spec.seqLen());
        m.put("learning_rate", spec.learningRate());
        m.put("warmup_steps", spec.warmupSteps());
        m.put("min_lr_ratio", spec.minLrRatio());
        m.put("weight_decay", spec.weightDecay());
        m.put("beta1", spec.beta1());
        m.put("beta2", spec.beta2());
        m.put("eps", spec.eps());
        m.put("grad_clip", spec.gradClip());
        m.put("grad_accumulation", spec.gradAccumulation());
        m.put("held_out_fraction", spec.heldOutFraction());
        m.put("seed", spec.seed());
        LoraConfig l = spec.lora();
        if (l != null) {
            Map<String, Object> lora = new LinkedHashMap<>();
            lora.put("rank", l.rank());
            lora.put("alpha", l.alpha());
            lora.put("dropout", l.dropout());
            lora.put("target_modules", l.targetModules());
            lora.put("target_modules_regex", l.targetModulesRegex());
            lora.put("layers_to_transform", l.layersToTransform());
            lora.put("layers_pattern", l.layersPattern());
            lora.put("rank_pattern", l.rankPattern() == null ? null : new TreeMap<>(l.rankPattern()));
            lora.put("alpha_pattern", l.alphaPattern() == null ? null : new TreeMap<>(l.alphaPattern()));
            lora.put("use_rslora", l.useRslora());
            lora.put("init", String.valueOf(l.init()));
            lora.put("init_seed", l.seed());
            m.put("lora", lora);
        }
        m.put("tokenizer", tokenizer);
        try {
            return sha256(JSON.writeValueAsString(m));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot fingerprint the settings of " + spec.adapterName(), e);
        }
    }

    /** SHA-256 of a string's UTF-8 bytes, lowercase hex. */
    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** SHA-256 of bytes, lowercase hex. */
    public static String sha256(byte[] bytes) {
        return io.sparklora.util.Hashing.sha256(bytes);
    }
}
