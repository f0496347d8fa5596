package io.sparklora.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The default tokenizer when a model directory ships no {@code tokenizer.json}: the UTF-8 bytes of the text are the
 * ids (0..255), as in byte-level models such as ByT5 without its offset for special tokens. Decoding replaces
 * invalid UTF-8 with U+FFFD, as {@link String#String(byte[], java.nio.charset.Charset)} does.
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int VOCAB_SIZE = 256;

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xff;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= VOCAB_SIZE) {
                throw new IllegalArgumentException("Cannot decode token id " + ids[i] + " at position " + i
                        + ": the byte tokenizer's ids are 0.." + (VOCAB_SIZE - 1));
            }
            bytes[i] = (byte) ids[i];
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }
}
