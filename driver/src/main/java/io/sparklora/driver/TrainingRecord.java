package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.LossPoint;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * {@code adapters/<name>/training.json}: the provenance of one adapter (config, seed, base model hash, versions), its
 * data (rows, skipped rows, windows), its loss history and its timings — enough to reproduce and to plot it.
 */
public final class TrainingRecord {
    public static final int FORMAT_VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper();

    private TrainingRecord() {
    }

    /** {@code windowsIn}: where the task kept the windows, {@code memory} or {@code spill file}. */
    static byte[] toJson(TrainJobSpec job, AdapterPlan plan, TrainSpec spec, PackedData data, long shortRows,
                         String windowsIn, double baseHeldOutLoss, TrainResult result, int attempt, Instant started,
                         io.sparklora.job.Fingerprint fingerprint) throws IOException {
        return toJson(job, plan, spec, data, shortRows, windowsIn, baseHeldOutLoss, result, attempt, started,
                fingerprint, List.of());
    }

    /**
     * The record of an adapter trained fused ({@code --adapters-per-task}): {@code fusedWith} names the other adapters
     * of its fused run, written as {@code fused_with} when not empty.
     */
    static byte[] toJson(TrainJobSpec job, AdapterPlan plan, TrainSpec spec, PackedData data, long shortRows,
                         String windowsIn, double baseHeldOutLoss, TrainResult result, int attempt, Instant started,
                         io.sparklora.job.Fingerprint fingerprint, List<String> fusedWith) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format_version", FORMAT_VERSION);
        o.put("adapter", plan.name());
        o.put("key", plan.key());
        ObjectNode versions = o.putObject("versions");
        versions.put("spark_lora", job.versions().get(0));
        versions.put("spark", job.versions().get(1));
        versions.put("java", job.versions().get(2));
        ObjectNode base = o.putObject("base_model");
        base.put("path", job.baseModelUri());
        base.put("sha256", job.baseModelSha256());
        base.put("tokenizer", job.tokenizer().describe());
        ObjectNode fp = o.putObject("fingerprint");
        fp.put("base_model", fingerprint.baseModel());
        fp.put("settings", fingerprint.settings());
        fp.put("data", fingerprint.data());
        fp.put("combined", fingerprint.combined());
        o.put("seed", spec.seed());
        o.set("train_spec", JSON.valueToTree(specFields(spec)));
        LoraConfig lora = spec.lora();
        o.put("mode", spec.mode().name().toLowerCase(java.util.Locale.ROOT)); // lora, or full_weights (train --full)
        o.put("trainable_params", trainableParams(result));
        if (lora == null) {
            o.putNull("lora");
        } else {
            ObjectNode l = o.putObject("lora");
            l.put("rank", lora.rank());
            l.put("alpha", lora.alpha());
            l.put("dropout", lora.dropout());
            l.set("target_modules", JSON.valueToTree(lora.targetModules()));
            l.put("use_rslora", lora.useRslora());
            l.put("init_seed", lora.seed());
        }
        ObjectNode d = o.putObject("data");
        d.put("rows", data.rows());
        d.put("rows_too_short", shortRows);
        d.put("tokens", data.tokens());
        d.put("target_tokens", data.targetTokens());
        d.put("train_windows", data.train().size());
        d.put("held_out_windows", data.heldOut().size());
        d.put("windows_in", windowsIn);
        if (!fusedWith.isEmpty()) {
            o.set("fused_with", JSON.valueToTree(fusedWith));
        }
        o.put("steps", result.steps());
        o.put("resumed_from_step", result.resumedFromStep());
        o.put("attempt", attempt);
        o.put("final_train_loss", result.finalTrainLoss());
        put(o, "final_held_out_loss", result.finalHeldOutLoss());
        put(o, "base_held_out_loss", baseHeldOutLoss);
        history(o.putArray("train_history"), result.trainHistory());
        history(o.putArray("held_out_history"), result.heldOutHistory());
        ObjectNode t = o.putObject("timings");
        t.put("train_seconds", result.timings().trainSeconds());
        t.put("eval_seconds", result.timings().evalSeconds());
        t.put("checkpoint_seconds", result.timings().checkpointSeconds());
        t.put("total_seconds", result.timings().totalSeconds());
        t.put("tokens_per_second", result.tokensPerSecond());
        o.put("started_at", started.toString());
        o.put("finished_at", Instant.now().toString());
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
    }

    /**
     * The elements of the tensors the run trained: for LoRA every A (rank×in) and B (out×rank), so the sum of
     * rank·(in + out) over the adapted modules as {@code plane.json} counts them
     * ({@link SweepGrid#trainableParameters}); for {@code train --full} every weight of the model.
     */
    static long trainableParams(TrainResult result) {
        long n = 0;
        for (io.sparklora.tensor.Tensor t : result.parameters().values()) {
            n += t.size();
        }
        return n;
    }

    private static java.util.Map<String, Object> specFields(TrainSpec s) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("steps", s.steps());
        m.put("epochs", s.epochs());
        m.put("batch_size", s.batchSize());
        m.put("seq_len", s.seqLen());
        m.put("learning_rate", s.learningRate());
        m.put("warmup_steps", s.warmupSteps());
        m.put("min_lr_ratio", s.minLrRatio());
        m.put("weight_decay", s.weightDecay());
        m.put("grad_clip", s.gradClip());
        m.put("grad_accumulation", s.gradAccumulation());
        m.put("eval_every", s.evalEvery());
        m.put("checkpoint_every", s.checkpointEvery());
        m.put("held_out_fraction", s.heldOutFraction());
        return m;
    }

    private static void put(ObjectNode o, String field, double v) {
        if (Double.isNaN(v)) {
            o.putNull(field);
        } else {
            o.put(field, v);
        }
    }

    private static void history(ArrayNode out, List<LossPoint> points) {
        for (LossPoint p : points) {
            out.addArray().add(p.step()).add(p.loss()).add(p.learningRate());
        }
    }

    /** Parses a training.json, naming the file when it is not ours. */
    static JsonNode read(byte[] bytes, String where) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IOException("Cannot read " + where + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        io.sparklora.util.FormatVersion.check(n, where, FORMAT_VERSION);
        return n;
    }
}
