package io.sparklora.cli;

import io.sparklora.generate.Generator;
import io.sparklora.generate.Sampling;
import io.sparklora.model.BaseModel;
import io.sparklora.model.CausalLm;
import io.sparklora.model.Checkpoints;
import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.tokenizer.Tokenizers;
import io.sparklora.tokenizer.Utf8StreamDecoder;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code generate}: prints a continuation of {@code --prompt} (without the prompt) under the base model or base +
 * adapter. Byte-level models print each character as soon as its bytes are complete; models with a tokenizer.json
 * print the decoded continuation at the end. A note on stderr says when the model's max positions cut it short.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Print a continuation of a prompt under a model (and optionally an adapter).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "base model directory")
    Path model;

    @Option(names = "--adapter", description = "PEFT adapter directory")
    Path adapter;

    @Option(names = "--prompt", required = true, description = "text to continue")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "100", description = "tokens to generate at most"
            + " (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 for greedy decoding, else the sampling"
            + " temperature (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        Sampling sampling = new Sampling(maxNewTokens, temperature, topP, seed);
        BaseModel base = Checkpoints.load(model);
        CausalLm lm = LocalModels.withOptionalAdapter(base, adapter);
        Tokenizer tokenizer = Tokenizers.forModel(model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Generator.Result result;
        if (tokenizer instanceof ByteTokenizer) {
            Utf8StreamDecoder decoder = new Utf8StreamDecoder();
            result = new Generator(lm).generate(tokenizer.encode(prompt), sampling, id -> out.print(decoder.accept(id)));
            out.println(decoder.finish());
        } else {
            result = new Generator(lm).generate(tokenizer.encode(prompt), sampling);
            out.println(tokenizer.decode(result.tokens()));
        }
        out.flush();
        if (result.stop() == Generator.Stop.MAX_POSITIONS) {
            System.err.println("(stopped after " + result.tokens().length + " tokens: the model's max positions is "
                    + base.config().maxPositions() + ")");
        }
        return 0;
    }
}
