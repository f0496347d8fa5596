package io.sparklora.model;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A base model's architecture, read from and written to a Hugging Face {@code config.json}. Implementations are
 * immutable records validated in their compact constructors.
 */
public sealed interface ModelConfig permits LlamaConfig, Gpt2Config {
    /** Hugging Face {@code model_type}: {@code llama}, {@code mistral}, {@code qwen2}, {@code qwen3} or {@code gpt2}. */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    /**
     * Longest sequence the model runs as Hugging Face defines it: max_position_embeddings / n_positions, or less where
     * attention is windowed (see {@link #positionLimit()}).
     */
    int maxPositions();

    /** Why {@link #maxPositions()} is what it is, for messages: "max_position_embeddings is 2048". */
    default String positionLimit() {
        return "max_position_embeddings is " + maxPositions();
    }

    /** initializer_range: the std of a fresh model's normal init. */
    double initializerRange();

    /** The std a fresh model draws the matrix {@code key} from (GPT-2 scales its residual projections down). */
    double initStd(String key);

    /** The canonical key of the LM head's (vocab, hidden) weight: the token embedding when tied. */
    String lmHeadKey();

    /**
     * The canonical key of a tensor name found in a checkpoint (prefixes normalised), or null when the tensor is not
     * a weight of the model (a saved buffer, a tied copy of the head) and is ignored.
     */
    String canonicalKey(String stored);

    /** PEFT's default {@code target_modules} for the family (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
    List<String> defaultTargetModules();

    /** Calls the function for this config's type: the one place code chooses per architecture. */
    <R> R fold(Function<LlamaConfig, R> llama, Function<Gpt2Config, R> gpt2);

    /**
     * Every linear layer inside the transformer blocks that LoRA may adapt, in checkpoint order (block by block, in the
     * order Hugging Face declares the modules). The LM head is not included: PEFT's {@code all-linear} skips it too.
     */
    List<LinearModule> linearModules();

    /** Every tensor of the canonical checkpoint, keyed as Hugging Face writes it, with its shape, in a stable order. */
    Map<String, int[]> weightShapes();

    /** The {@code config.json} fields a Hugging Face loader needs ({@code model_type}, {@code architectures}, …). */
    Map<String, Object> toHfConfig();
}
