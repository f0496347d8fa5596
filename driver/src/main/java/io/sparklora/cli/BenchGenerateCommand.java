package io.sparklora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.infer.GenerateBench;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-generate}: what the key/value cache buys {@code generate} (issue 10, point 1), as one JSON document
 * (see {@link GenerateBench}). Without {@code --model} it writes two random bases of the demo base's shape but a
 * context of 512 — a LLaMA and a GPT-2 — as {@code init-model} does, into a temporary directory, and loads them back
 * from disk as {@code generate} would. Exit 1 when the two paths chose different tokens other than at a tie.
 */
@Command(name = "bench-generate", mixinStandardHelpOptions = true,
        description = "Print generate's tokens/s with the KV cache against a full forward per token, as JSON.")
final class BenchGenerateCommand implements Callable<Integer> {
    /** The generated bases' context: room for a 16-token prompt and 256 new tokens, and then some. */
    private static final int CONTEXT = 512;

    @Option(names = "--model", description = "base model directory (default: random LLaMA and GPT-2 bases of dim "
            + "128, 4 layers, context " + CONTEXT + ")")
    Path model;

    @Option(names = "--new-tokens", defaultValue = "256", description = "tokens generated greedily per run "
            + "(default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "random prompt length (default: "
            + "${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--runs", defaultValue = "5", description = "timed runs per path, alternating (default: "
            + "${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--warmup-tokens", defaultValue = "32", description = "tokens each path generates once before "
            + "the timed runs (default: ${DEFAULT-VALUE})")
    int warmupTokens;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the prompt and of generated bases "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        GenerateBench.Options options = new GenerateBench.Options(newTokens, promptTokens, runs, warmupTokens, seed);
        ObjectMapper json = new ObjectMapper();
        ArrayNode results = json.createArrayNode();
        if (model != null) {
            results.add(GenerateBench.run(model.toString(), Checkpoints.load(model), options));
        } else {
            Path tmp = Files.createTempDirectory("spark-lora-bench-generate");
            try {
                for (ModelConfig config : generatedConfigs()) {
                    Path dir = tmp.resolve(config.modelType());
                    Checkpoints.save(Checkpoints.random(config, seed), dir);
                    BaseModel base = Checkpoints.load(dir);
                    results.add(GenerateBench.run("random " + config.modelType() + " (dim 128, 4 layers, context "
                            + CONTEXT + ")", base, options));
                }
            } finally {
                deleteTree(tmp);
            }
        }
        ObjectNode out = json.createObjectNode();
        out.set("bases", results);
        System.out.println(out.toPrettyString());
        for (var r : results) {
            if (!GenerateBench.agrees((ObjectNode) r)) {
                System.err.println("Error: the cached and uncached paths chose different tokens on " + r.get("base")
                        .asText() + " (see partings)");
                return 1;
            }
        }
        return 0;
    }

    /** The demo base's shape (dim 128, 4 layers, 4 heads, byte vocabulary) with a context of {@link #CONTEXT}. */
    private static List<ModelConfig> generatedConfigs() {
        List<ModelConfig> configs = new ArrayList<>();
        configs.add(new LlamaConfig(256, 128, 344, 4, 4, 4, 32, CONTEXT, 1e-6, 10000.0, false, false, false, 0.02));
        configs.add(new Gpt2Config(256, 128, 4, 4, CONTEXT, 512, 1e-5, 0.02));
        return configs;
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
