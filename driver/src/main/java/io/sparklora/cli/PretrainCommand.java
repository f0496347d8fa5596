package io.sparklora.cli;

import io.sparklora.driver.ModelStore;
import io.sparklora.driver.TrainingRecord;
import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.WindowPacker;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.output.TrainingFile;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.util.Hashing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.ArgGroup;
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
    static final String TRAINING_JSON = TrainingFile.FILE;

    @Option(names = "--model", required = true, description = "starting model directory (e.g. from init-model): a local"
            + " path or any Hadoop URI")
    String model;

    @Option(names = "--data", required = true, description = "training data: a UTF-8 text file or a JSON-lines file,"
            + " a local path or any Hadoop URI")
    String data;

    @Option(names = "--format", description = "text (the whole file is one document) or jsonl (one JSON object per"
            + " line); default: jsonl for .jsonl/.json files, else text")
    LocalRows.Format format;

    @Option(names = "--text-column", defaultValue = "text", description = "jsonl column holding the text"
            + " (default: ${DEFAULT-VALUE}; rows with prompt and completion train on the completion)")
    String textColumn;

    @ArgGroup(exclusive = true)
    Length length;

    /** How long to train: one of the two. */
    static final class Length {
        @Option(names = "--steps", description = "optimizer steps (default: 100)")
        Integer steps;

        @Option(names = "--epochs", description = "passes over the training windows (instead of --steps)")
        Integer epochs;
    }

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

    @Option(names = "--out", required = true, description = "output directory, a local path or any Hadoop URI (must"
            + " not exist or be empty; written whole or not at all)")
    String out;

    @Override
    public Integer call() throws Exception {
        Instant started = Instant.now();
        Configuration conf = LocalHadoopConf.create();
        LocalRows.Format fmt = LocalRows.formatOf(data, format);
        byte[] dataBytes = UriFiles.read(data, conf, "data");
        List<Map<String, Object>> rows = LocalRows.parse(dataBytes, data, fmt);
        LocalModels.Loaded loaded = LocalModels.load(model, conf);
        BaseModel base = loaded.base();
        String modelSha = ModelStore.sha256(model, conf);
        int maxSeq = base.config().maxPositions();
        int seqLen = seq != null ? seq : Math.min(128, maxSeq);
        if (seqLen < 2 || seqLen > maxSeq) {
            throw new IllegalArgumentException("Invalid --seq " + seqLen + ": must be between 2 and the model's max"
                    + " positions " + maxSeq);
        }
        Tokenizer tokenizer = loaded.tokenizer();
        PackedData packed = new WindowPacker(tokenizer, seqLen)
                .packRows("pretrain", rows.iterator(), textColumn, heldOut, seed);
        TrainSpec.Builder b = TrainSpec.fullWeights("pretrain").batchSize(batch).seqLen(seqLen).learningRate(lr)
                .warmupSteps(warmup).weightDecay(weightDecay).gradClip(gradClip).heldOutFraction(heldOut).seed(seed);
        if (length != null && length.epochs != null) {
            b.epochs(length.epochs);
        } else {
            b.steps(length != null && length.steps != null ? length.steps : 100);
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
        TrainingFile record = record(spec, packed, fmt, modelSha, Hashing.sha256(dataBytes), initialHeldOut, result,
                started);
        StoreOutputDirs.writeAtomically(out, conf, "model", dir -> {
            Checkpoints.save(base, dir);
            ModelStore.copyTokenizerFiles(model, conf, dir); // tokenizer.json and tokenizer_config.json: its BOS/EOS
            AtomicFiles.write(dir.resolve(TRAINING_JSON), (new String(record.toJson(), StandardCharsets.UTF_8)
                    + "\n").getBytes(StandardCharsets.UTF_8));
        });
        System.out.printf(Locale.ROOT, "Wrote %s: held-out loss %.4f -> %.4f, train loss %.4f, %.0f tok/s, %s%n",
                out, initialHeldOut, result.finalHeldOutLoss(), result.finalTrainLoss(), result.tokensPerSecond(),
                ProgressLines.duration(result.timings().totalSeconds()));
        return 0;
    }

    /**
     * The same record as the {@code train} command's {@code adapters/<name>/training.json} ({@link TrainingFile}, of
     * command pretrain) so the same tools read both; {@code base_held_out_loss} is the starting model's.
     */
    private TrainingFile record(TrainSpec spec, PackedData packed, LocalRows.Format fmt, String modelSha,
                                String dataSha, double initialHeldOut, TrainResult result, Instant started) {
        return TrainingFile.pretrain(new TrainingFile.Versions(Versions.sparkLora(), null,
                        System.getProperty("java.version")), new TrainingFile.BaseModel(model, modelSha, null),
                new TrainingFile.DataSource(data, dataSha, fmt.name(), textColumn), spec.seed(),
                TrainingRecord.spec(spec, null), new TrainingFile.Data(packed.rows(), null, packed.tokens(),
                        packed.targetTokens(), packed.train().size(), packed.heldOut().size(), null),
                result.steps(), result.tokensTrained(), result.finalTrainLoss(), result.finalHeldOutLoss(),
                initialHeldOut, TrainingRecord.history(result.trainHistory()),
                TrainingRecord.history(result.heldOutHistory()), TrainingRecord.timings(result), started.toString(),
                Instant.now().toString());
    }
}
