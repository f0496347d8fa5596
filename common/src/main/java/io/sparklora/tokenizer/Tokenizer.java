package io.sparklora.tokenizer;

/**
 * Turns text into the token ids a base model reads, and back. {@link ByteTokenizer} when a model directory carries no
 * {@code tokenizer.json}; a Hugging Face tokenizer otherwise.
 */
public interface Tokenizer {
    /** The token ids of {@code text}, each in [0, {@link #vocabSize()}). */
    int[] encode(String text);

    /** The text of {@code ids}. */
    String decode(int[] ids);

    /** Number of distinct ids this tokenizer produces. */
    int vocabSize();

    /** The BOS/EOS ids it puts around rows; none by default (the byte tokenizer). */
    default SpecialTokens specialTokens() {
        return SpecialTokens.NONE;
    }
}
