package io.sparklora.cli;

import io.sparklora.driver.SparkScoreJob;
import io.sparklora.driver.SparkSessions;
import io.sparklora.eval.ScoreResult;
import io.sparklora.eval.Scorer;
import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code score}: mean next-token cross-entropy of a text file under the base model or base + adapter, over
 * consecutive, non-overlapping windows of {@code --seq} tokens (see {@link Scorer}). Prints one JSON line. With
 * {@code --data}, every row of a dataset instead, each under the adapter its {@code --adapter-column} names (or
 * routed), on Spark ({@link SparkScoreJob}).
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Print {\"tokens_scored\", \"mean_loss\", \"perplexity\"} of a text file under a model; "
                + "with --data, score every row of a dataset under its adapter on Spark.")
final class ScoreCommand implements Callable<Integer> {
    @CommandLine.Mixin
    DatasetOptions dataset = new DatasetOptions();

    @Option(names = "--text-column", defaultValue = "text", description = "with --data: the column to score "
            + "(default: ${DEFAULT-VALUE})")
    String textColumn;

    @Option(names = "--model", required = true, description = "base model directory (config.json + model.safetensors):"
            + " a local path or any Hadoop URI")
    String model;

    @Option(names = "--adapter", description = "PEFT adapter directory (adapter_config.json + adapter_model.safetensors):"
            + " a local path or any Hadoop URI")
    String adapter;

    @Option(names = "--text-file", description = "UTF-8 text to score (without --data): a local path or any Hadoop URI")
    String textFile;

    @Option(names = "--seq", description = "window length in tokens (default: 128, or the model's max positions if"
            + " smaller)")
    Integer seq;

    @Override
    public Integer call() throws Exception {
        if (dataset.data != null && adapter != null) {
            throw dataset.usage("Invalid --adapter with --data: the rows name their adapter in "
                    + "--adapter-column");
        }
        if (dataset.given("score", textFile != null ? "--text-file" : null, "--text-file")) {
            try (SparkSessions.Session s = SparkSessions.open(dataset.master, "spark-lora score")) {
                SparkScoreJob.run(s.spark(), model, dataset.adapters, dataset.data, dataset.dataFormat,
                        dataset.adapterColumn, textColumn, seq, dataset.out, dataset.format, System.out);
            }
            return 0;
        }
        Configuration conf = LocalHadoopConf.create();
        byte[] text = UriFiles.read(textFile, conf, "text file");
        LocalModels.Loaded loaded = LocalModels.load(model, conf);
        BaseModel base = loaded.base();
        int maxSeq = base.config().maxPositions();
        int seq = this.seq != null ? this.seq : Math.min(Scorer.DEFAULT_SEQ_LEN, maxSeq);
        if (seq < 2 || seq > maxSeq) {
            throw new IllegalArgumentException("Invalid --seq " + seq + ": must be between 2 and the model's "
                    + "max positions " + base.config().maxPositions());
        }
        CausalLm lm = LocalModels.withOptionalAdapter(base, adapter, conf);
        int[] tokens = tokenize(loaded.tokenizer(), text, textFile);
        ScoreResult result = new Scorer(seq).score(lm, tokens, textFile);
        System.out.println(result.toJson());
        return 0;
    }

    /** The file's UTF-8 bytes as ids for byte-level models; the model's tokenizer.json otherwise. */
    private static int[] tokenize(Tokenizer tokenizer, byte[] text, String where) throws IOException {
        if (tokenizer instanceof ByteTokenizer bytes) {
            return bytes.encodeBytes(text);
        }
        return tokenizer.encode(io.sparklora.util.Utf8.decode(text, where, "read text file"));
    }
}
