package io.sparklora.cli;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.ModelConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code init-model}: writes a randomly initialised Hugging Face checkpoint (config.json + model.safetensors). */
@Command(name = "init-model", mixinStandardHelpOptions = true,
        description = "Write a randomly initialised Hugging Face checkpoint (config.json + model.safetensors).")
final class InitModelCommand implements Callable<Integer> {
    enum Family { llama, gpt2 }

    @Option(names = "--family", required = true, description = "llama or gpt2")
    Family family;

    @Option(names = "--dim", required = true, description = "hidden size")
    int dim;

    @Option(names = "--layers", required = true, description = "number of transformer blocks")
    int layers;

    @Option(names = "--heads", required = true, description = "attention heads")
    int heads;

    @Option(names = "--kv-heads", description = "key/value heads (LLaMA grouped-query attention; default: --heads)")
    Integer kvHeads;

    @Option(names = "--ffn", required = true, description = "MLP width (LLaMA intermediate_size, GPT-2 n_inner)")
    int ffn;

    @Option(names = "--vocab", required = true, description = "vocabulary size (256 for the byte tokenizer)")
    int vocab;

    @Option(names = "--max-seq", required = true, description = "longest sequence (max_position_embeddings)")
    int maxSeq;

    @Option(names = "--rope-theta", defaultValue = "10000", description = "LLaMA rope_theta (default: ${DEFAULT-VALUE})")
    double ropeTheta;

    @Option(names = "--tie-embeddings", description = "LLaMA: tie the LM head to the token embedding")
    boolean tieEmbeddings;

    @Option(names = "--seed", defaultValue = "0", description = "initialisation seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelConfig config = switch (family) {
            case llama -> {
                if (dim % heads != 0) {
                    throw new IllegalArgumentException("Invalid --heads " + heads + ": must divide --dim " + dim);
                }
                yield new LlamaConfig(vocab, dim, ffn, layers, heads, kvHeads == null ? heads : kvHeads,
                        dim / heads, maxSeq, 1e-6, ropeTheta, false, false, tieEmbeddings, 0.02);
            }
            case gpt2 -> {
                if (kvHeads != null && kvHeads != heads) {
                    throw new IllegalArgumentException("Invalid --kv-heads " + kvHeads
                            + ": GPT-2 has no grouped-query attention; omit it or set it to --heads " + heads);
                }
                yield new Gpt2Config(vocab, dim, layers, heads, maxSeq, ffn, 1e-5, 0.02);
            }
        };
        BaseModel model = Checkpoints.random(config, seed);
        OutputDirs.writeAtomically(out, "model", dir -> Checkpoints.save(model, dir));
        System.out.println("Wrote " + config.modelType() + " model (" + parameterCount(model) + " parameters) to "
                + out);
        return 0;
    }

    private static long parameterCount(BaseModel model) {
        return model.weights().values().stream().mapToLong(t -> t.size()).sum();
    }
}
