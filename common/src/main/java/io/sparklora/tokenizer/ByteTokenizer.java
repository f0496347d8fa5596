package io.sparklora.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The fallback tokenizer of {@code score} when a model directory has no {@code tokenizer.json}: a text's UTF-8 bytes
 * are its token ids, 0..255. Decoding replaces byte sequences that are not valid UTF-8 with U+FFFD.
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int VOCAB_SIZE = 256;

    @Override
    public int[] encode(String text) {
        return encodeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The ids of raw bytes (a file read as bytes, so invalid UTF-8 survives unchanged). */
    public int[] encodeBytes(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= VOCAB_SIZE) {
                throw new IllegalArgumentException("Cannot decode token id " + ids[i] + " at position " + i
                        + ": byte ids are 0..255");
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
