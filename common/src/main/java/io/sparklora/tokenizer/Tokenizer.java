package io.sparklora.tokenizer;

/**
 * Text to token ids and back, for training and scoring. Implementations are stateless after construction and safe
 * to share between the threads of one executor.
 */
public interface Tokenizer {
    /** The ids of {@code text}, without special tokens (no BOS/EOS is added). */
    int[] encode(String text);

    /** The text of {@code ids}. */
    String decode(int[] ids);

    /** One more than the largest id {@link #encode} can return: the smallest vocabulary a model needs. */
    int vocabSize();
}
