package io.sparklora.tokenizer;

/**
 * The special tokens a tokenizer puts around a row, read from {@code tokenizer_config.json} (and the
 * {@code tokenizer.json} post-processor): the BOS id every sequence starts with, when the tokenizer adds one, and the
 * EOS id that ends a document (appended to every training row, the stop token of {@code generate}).
 *
 * @param bos the id prepended to every row and prompt, or -1 (GPT-2 and Qwen add none)
 * @param eos the end-of-sequence id, or -1 when the tokenizer names none (the byte tokenizer)
 */
public record SpecialTokens(int bos, int eos) {
    /** No special tokens: rows are their text's ids alone. */
    public static final SpecialTokens NONE = new SpecialTokens(-1, -1);

    public SpecialTokens {
        if (bos < -1 || eos < -1) {
            throw new IllegalArgumentException("Invalid special tokens bos=" + bos + ", eos=" + eos
                    + ": ids are >= 0, or -1 for none");
        }
    }

    public boolean hasBos() {
        return bos >= 0;
    }

    public boolean hasEos() {
        return eos >= 0;
    }
}
