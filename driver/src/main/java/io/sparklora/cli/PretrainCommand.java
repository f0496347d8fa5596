package io.sparklora.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.LossPoint;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.WindowPacker;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.tokenizer.Tokenizers;
import io.sparklora.util.Hashing;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pretrain}: trains every weight of a model in this process (no Spark) — to build a small base model from text,
 * or as full fine-tuning — and writes the result as a Hugging Face checkpoint with a {@code training.json} beside it
 * (the options, the seed, the input model's and data's sha256, the loss history and the timings).
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Train all weights of a model on text in this process and write the HF checkpoint.")
final class PretrainCommand implements Callable<Integer> {
    static final String TRAINING_JSON = "training.json";

    @Option(names = "--model", required = true, description = "starting model directory (e.g. from init-model)")
    Path model;

    @Option(names = "--data", required = true, description = "training data: a UTF-8 text file or a JSON-lines file")
    Path data;

    @Option(names = "--format", description = "text (the whole file is one document) or jsonl (one JSON object per"
            + " line); default: jsonl for .jsonl/.json files, else text")
    LocalRows.Format format;

    @Option(names = "--text-column", defaultValue = "text", description = "jsonl column holding the text"
            + " (default: ${DEFAULT-VALUE}; rows with prompt and completion train on the completion)")
    String textColumn;

    @Option(names = "--steps", description = "optimizer steps (default: 100 unless --epochs is given)")
    Integer steps;

    @Option(names = "--epochs", description = "passes over the training windows (instead of --steps)")
    Integer epochs;

    @Option(names = "--batch", defaultValue = "8", description = "windows per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq", description = "tokens per window (default: 128, or the model's max positions if smaller)")
    Integer seq;

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "0", description = "linear warm-up steps before the cosine decay"
            + " (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW decoupled weight decay"
            + " (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--grad-clip", defaultValue = "1", description = "clip the global gradient norm to this, 0 for"
            + " none (default: ${DEFAULT-VALUE})")
    double gradClip;

    @Option(names = "--held-out", defaultValue = "0.1", description = "fraction of windows held out for evaluation"
            + " (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--eval-every", description = "held-out loss every N steps (default: ten times per run)")
    Integer evalEvery;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the held-out split and the data order"
            + " (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (steps != null && epochs != null) {
            throw new IllegalArgumentException("Cannot combine --steps " + steps + " and --epochs " + epochs
                    + ": give one");
        }
        LocalRows.Format fmt = LocalRows.formatOf(data, format);
        List<Map<String, Object>> rows = LocalRows.read(data, fmt);
        BaseModel base = Checkpoints.load(model);
        String modelSha = Hashing.sha256(model);
        int maxSeq = base.config().maxPositions();
        int seqLen = seq != null ? seq : Math.min(128, maxSeq);
        if (seqLen < 2 || seqLen > maxSeq) {
            throw new IllegalArgumentException("Invalid --seq " + seqLen + ": must be between 2 and the model's max"
                    + " positions " + maxSeq);
        }
        Tokenizer tokenizer = Tokenizers.forModel(model);
        PackedData packed = new WindowPacker(tokenizer, seqLen)
                .packRows("pretrain", rows.iterator(), textColumn, heldOut, seed);
        TrainSpec.Builder b = TrainSpec.fullWeights("pretrain").batchSize(batch).seqLen(seqLen).learningRate(lr)
                .warmupSteps(warmup).weightDecay(weightDecay).gradClip(gradClip).heldOutFraction(heldOut).seed(seed);
        if (epochs != null) {
            b.epochs(epochs);
        } else {
            b.steps(steps != null ? steps : 100);
        }
        int total = b.build().totalSteps(packed.train().size());
        TrainSpec spec = b.evalEvery(evalEvery != null ? evalEvery : Math.max(1, total / 10)).build();
        AdapterTrainer trainer = AdapterTrainer.fullWeights(spec, base, packed)
                .onProgress(new ProgressLines(System.out, 50));
        System.out.printf(Locale.ROOT, "pretrain: %d rows, %d tokens, %d training and %d held-out windows of %d;"
                        + " %d steps of %d windows%n", packed.rows(), packed.tokens(), packed.train().size(),
                packed.heldOut().size(), seqLen, total, batch);
        double initialHeldOut = packed.heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss();
        TrainResult result = trainer.run();
        ObjectNode record = record(spec, packed, fmt, modelSha, initialHeldOut, result);
        OutputDirs.writeAtomically(out, "model", dir -> {
            Checkpoints.save(base, dir);
            Path tok = model.resolve("tokenizer.json");
            if (Files.exists(tok)) {
                Files.copy(tok, dir.resolve("tokenizer.json"), StandardCopyOption.COPY_ATTRIBUTES);
            }
            AtomicFiles.write(dir.resolve(TRAINING_JSON), (StrictJson.MAPPER.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8));
        });
        System.out.printf(Locale.ROOT, "Wrote %s: held-out loss %.4f -> %.4f, train loss %.4f, %.0f tok/s, %s%n",
                out, initialHeldOut, result.finalHeldOutLoss(), result.finalTrainLoss(), result.tokensPerSecond(),
                ProgressLines.duration(result.timings().totalSeconds()));
        return 0;
    }

    private ObjectNode record(TrainSpec spec, PackedData packed, LocalRows.Format fmt, String modelSha,
                              double initialHeldOut, TrainResult result) throws IOException {
        ObjectNode root = StrictJson.MAPPER.createObjectNode();
        root.put("command", "pretrain");
        root.put("spark_lora_version", Versions.sparkLora());
        root.put("java_version", System.getProperty("java.version"));
        ObjectNode config = root.putObject("config");
        config.put("model", model.toString());
        config.put("data", data.toString());
        config.put("format", fmt.name());
        config.put("text_column", textColumn);
        config.put("steps", spec.steps());
        config.put("epochs", spec.epochs());
        config.put("batch", spec.batchSize());
        config.put("seq", spec.seqLen());
        config.put("lr", spec.learningRate());
        config.put("warmup", spec.warmupSteps());
        config.put("min_lr_ratio", spec.minLrRatio());
        config.put("weight_decay", spec.weightDecay());
        config.put("grad_clip", spec.gradClip());
        config.put("held_out", spec.heldOutFraction());
        config.put("eval_every", spec.evalEvery());
        root.put("seed", spec.seed());
        root.put("model_sha256", modelSha);
        root.put("data_sha256", Hashing.sha256(data));
        ObjectNode d = root.putObject("data");
        d.put("rows", packed.rows());
        d.put("tokens", packed.tokens());
        d.put("train_windows", packed.train().size());
        d.put("held_out_windows", packed.heldOut().size());
        root.put("steps", result.steps());
        root.put("tokens_trained", result.tokensTrained());
        putLoss(root, "initial_held_out_loss", initialHeldOut);
        putLoss(root, "final_train_loss", result.finalTrainLoss());
        putLoss(root, "final_held_out_loss", result.finalHeldOutLoss());
        history(root.putArray("train_history"), result.trainHistory());
        history(root.putArray("held_out_history"), result.heldOutHistory());
        ObjectNode t = root.putObject("timings");
        t.put("train_seconds", result.timings().trainSeconds());
        t.put("eval_seconds", result.timings().evalSeconds());
        t.put("total_seconds", result.timings().totalSeconds());
        t.put("tokens_per_second", result.tokensPerSecond());
        return root;
    }

    private static void putLoss(ObjectNode node, String key, double v) {
        if (Double.isNaN(v)) {
            node.putNull(key);
        } else {
            node.put(key, v);
        }
    }

    private static void history(ArrayNode array, List<LossPoint> points) {
        for (LossPoint p : points) {
            array.addObject().put("step", p.step()).put("loss", p.loss()).put("lr", p.learningRate());
        }
    }
}
