package io.sparklora.cli;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.RopeScaling;
import io.sparklora.safetensors.DType;
import io.sparklora.serve.ServeOptions;
import io.sparklora.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code init-model}: writes a randomly initialised Hugging Face checkpoint (config.json + safetensors), in any
 * supported family, stored as F32, BF16 or F16 and optionally sharded, so test bases can look like real ones.
 */
@Command(name = "init-model", mixinStandardHelpOptions = true,
        description = "Write a randomly initialised Hugging Face checkpoint (config.json + safetensors).")
final class InitModelCommand implements Callable<Integer> {
    /** The families, spelled as their config.json model_type. */
    enum Family {
        llama(LlamaFamily.LLAMA), mistral(LlamaFamily.MISTRAL), qwen2(LlamaFamily.QWEN2), qwen3(LlamaFamily.QWEN3),
        gpt2(null);

        final LlamaFamily llamaBlock; // null for GPT-2

        Family(LlamaFamily llamaBlock) {
            this.llamaBlock = llamaBlock;
        }
    }

    /** How tensors are stored on disk (computation is float32 either way). */
    enum StoredType {
        f32(DType.F32), bf16(DType.BF16), f16(DType.F16);

        final DType dtype;

        StoredType(DType dtype) {
            this.dtype = dtype;
        }
    }

    @Option(names = "--family", required = true, description = "llama, mistral, qwen2, qwen3 or gpt2")
    Family family;

    @Option(names = "--dim", required = true, description = "hidden size")
    int dim;

    @Option(names = "--layers", required = true, description = "number of transformer blocks")
    int layers;

    @Option(names = "--heads", required = true, description = "attention heads")
    int heads;

    @Option(names = "--kv-heads", description = "key/value heads (grouped-query attention; default: --heads)")
    Integer kvHeads;

    @Option(names = "--head-dim", description = "width of one head (default: --dim / --heads; Qwen3 and LLaMA may "
            + "differ from it)")
    Integer headDim;

    @Option(names = "--ffn", required = true, description = "MLP width (intermediate_size, GPT-2 n_inner)")
    int ffn;

    @Option(names = "--vocab", required = true, description = "vocabulary size (256 for the byte tokenizer)")
    int vocab;

    @Option(names = "--max-seq", required = true, description = "longest sequence (max_position_embeddings)")
    int maxSeq;

    @Option(names = "--rope-theta", defaultValue = "10000", description = "rope_theta (default: ${DEFAULT-VALUE})")
    double ropeTheta;

    @Option(names = "--tie-embeddings", description = "tie the LM head to the token embedding (GPT-2 always is)")
    boolean tieEmbeddings;

    @Option(names = "--dtype", defaultValue = "f32", description = "stored dtype: f32, bf16 or f16 "
            + "(default: ${DEFAULT-VALUE})")
    StoredType dtype;

    @Option(names = "--shard-size", description = "largest shard (bytes, or with k, m, g: 500m); larger checkpoints "
            + "are written as model-0000i-of-0000n.safetensors behind model.safetensors.index.json")
    String shardSize;

    @Option(names = "--tokenizer", description = "directory with a tokenizer.json (and tokenizer_config.json) to copy "
            + "into the model; its ids must fit --vocab")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "0", description = "initialisation seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() throws Exception {
        long maxShard = shardSize == null ? Long.MAX_VALUE : ServeOptions.parseSize(shardSize);
        ModelConfig config = family.llamaBlock != null ? llamaBlock(family.llamaBlock) : gpt2();
        if (tokenizer != null) {
            if (!java.nio.file.Files.isRegularFile(tokenizer.resolve("tokenizer.json"))) {
                throw new IllegalArgumentException("Invalid --tokenizer " + tokenizer + ": it has no tokenizer.json");
            }
            Tokenizers.forModel(tokenizer, config.vocabSize()); // fails naming both sizes when too large
        }
        BaseModel model = Checkpoints.random(config, seed);
        OutputDirs.writeAtomically(out, "model", dir -> {
            Checkpoints.save(model, dir, dtype.dtype, maxShard);
            if (tokenizer != null) {
                Tokenizers.copyFiles(tokenizer, dir);
            }
        });
        System.out.println("Wrote " + config.modelType() + " model (" + parameterCount(model) + " parameters, "
                + dtype + ") to " + out);
        return 0;
    }

    private LlamaConfig llamaBlock(LlamaFamily f) {
        if (headDim == null && dim % heads != 0) {
            throw new IllegalArgumentException("Invalid --heads " + heads + ": must divide --dim " + dim
                    + " (or give --head-dim)");
        }
        return new LlamaConfig(f, vocab, dim, ffn, layers, heads, kvHeads == null ? heads : kvHeads,
                headDim == null ? dim / heads : headDim, maxSeq, 1e-6, ropeTheta, false, false, tieEmbeddings, 0.02,
                RopeScaling.NONE, 0);
    }

    private Gpt2Config gpt2() {
        if (kvHeads != null && kvHeads != heads) {
            throw new IllegalArgumentException("Invalid --kv-heads " + kvHeads
                    + ": GPT-2 has no grouped-query attention; omit it or set it to --heads " + heads);
        }
        if (headDim != null && headDim * heads != dim) {
            throw new IllegalArgumentException("Invalid --head-dim " + headDim + ": GPT-2's head width is --dim / "
                    + "--heads = " + (dim / heads));
        }
        return new Gpt2Config(vocab, dim, layers, heads, maxSeq, ffn, 1e-5, 0.02);
    }

    private static long parameterCount(BaseModel model) {
        return model.weights().values().stream().mapToLong(t -> t.size()).sum();
    }
}
