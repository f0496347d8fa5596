package io.sparklora.cli;

import io.sparklora.driver.AdapterFiles;
import io.sparklora.driver.ModelStore;
import io.sparklora.driver.SparkGenerateJob;
import io.sparklora.driver.SparkSessions;
import io.sparklora.generate.Sampling;
import io.sparklora.infer.Generation;
import io.sparklora.infer.InferenceAdapter;
import io.sparklora.infer.KvDecoder;
import io.sparklora.infer.Segment;
import io.sparklora.infer.StopStrings;
import io.sparklora.infer.TextStream;
import io.sparklora.model.BaseModel;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code generate}: prints a continuation of {@code --prompt} (without the prompt) under the base model or base +
 * adapter, decoded with the key/value cache ({@link KvDecoder}); it ends at {@code --max-new-tokens}, an
 * end-of-sequence token of the checkpoint, or a {@code --stop} string. Text is printed as it is decided. A note on
 * stderr says when the model's max positions cut it short. With {@code --data}, a continuation of every row's
 * {@code --prompt-column} instead, each under the adapter its {@code --adapter-column} names (or routed), on Spark
 * ({@link SparkGenerateJob}).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Print a continuation of a prompt under a model (and optionally an adapter); with --data, "
                + "continue every row's prompt under its adapter on Spark.")
final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Mixin
    DatasetOptions dataset = new DatasetOptions();

    @Option(names = "--prompt-column", description = "with --data: the column holding each row's prompt")
    String promptColumn;

    @Option(names = "--model", required = true, description = "base model directory: a local path or any Hadoop URI")
    String model;

    @Option(names = "--adapter", description = "PEFT adapter directory: a local path or any Hadoop URI")
    String adapter;

    @Option(names = "--prompt", description = "text to continue (without --data)")
    String prompt;

    @Option(names = {"--max-new-tokens", "--max-tokens"}, defaultValue = "100", description = "tokens to generate at most"
            + " (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 for greedy decoding, else the sampling"
            + " temperature (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stop", description = "stop before this text (repeatable)")
    List<String> stop = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Sampling sampling = new Sampling(maxNewTokens, temperature, topP, seed);
        if (dataset.data != null && adapter != null) {
            throw dataset.usage("Invalid --adapter with --data: the rows name their adapter in "
                    + "--adapter-column");
        }
        if (dataset.given("generate", prompt != null ? "--prompt" : null, "--prompt")) {
            if (promptColumn == null) {
                throw dataset.usage("Cannot generate --data " + dataset.data + ": --prompt-column is "
                        + "missing");
            }
            try (SparkSessions.Session s = SparkSessions.open(dataset.master, "spark-lora generate")) {
                SparkGenerateJob.run(s.spark(), model, dataset.adapters, dataset.data, dataset.dataFormat,
                        dataset.adapterColumn, promptColumn, sampling, stop, dataset.out, dataset.format, System.out);
            }
            return 0;
        }
        if (promptColumn != null) {
            throw dataset.usage("Invalid --prompt-column: it applies only with --data");
        }
        Configuration conf = LocalHadoopConf.create();
        StopStrings stops = new StopStrings(stop);
        LocalModels.Loaded loaded = LocalModels.load(model, conf);
        BaseModel base = loaded.base();
        InferenceAdapter lora = adapter == null ? null
                : new InferenceAdapter(new org.apache.hadoop.fs.Path(adapter).getName(),
                        AdapterFiles.read(adapter, conf, base.config()), base.config());
        Tokenizer tokenizer = loaded.tokenizer();
        int[] promptIds = EncodedRow.prompt(tokenizer, prompt); // with the BOS where the tokenizer adds one
        int context = base.config().maxPositions();
        KvDecoder decoder = KvDecoder.create(base, context, Math.max(1, Math.min(promptIds.length, context)));
        Generation generation = new Generation(decoder.newCache(), lora, promptIds, sampling,
                ModelStore.eosIds(loaded.info(), conf), Segment.Logits.LAST);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        TextStream text = new TextStream(tokenizer, stops);
        generation.runAlone(decoder, id -> {
            out.print(text.accept(id));
            return !text.stopped();
        });
        out.println(text.finish());
        out.flush();
        if (generation.finish() == Generation.Finish.CONTEXT) {
            System.err.println("(stopped after " + generation.tokens().length + " tokens: the model's max positions is "
                    + base.config().maxPositions() + ")");
        }
        return 0;
    }
}
