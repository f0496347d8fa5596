package io.sparklora.model;

import java.util.List;
import java.util.Map;

/**
 * A base model's architecture, read from and written to a Hugging Face {@code config.json}. Implementations are
 * immutable records validated in their compact constructors.
 */
public sealed interface ModelConfig permits LlamaConfig, Gpt2Config {
    /** Hugging Face {@code model_type}: {@code llama} or {@code gpt2}. */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    /** Longest sequence the model accepts (max_position_embeddings / n_positions). */
    int maxPositions();

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
