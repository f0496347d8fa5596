package io.sparklora.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns byte-level token ids into text one id at a time, as a generator produces them: a character whose UTF-8 bytes
 * are not all there yet is held back until they are, instead of being printed as U+FFFD. Invalid bytes become U+FFFD;
 * {@link #finish()} also turns an incomplete sequence left at the end into U+FFFD.
 */
public final class Utf8StreamDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    private final ByteBuffer pending = ByteBuffer.allocate(8); // at most one incomplete sequence (≤ 3 bytes) + 1
    private final CharBuffer chars = CharBuffer.allocate(16);

    /** The text completed by byte {@code id} (0..255), possibly empty. */
    public String accept(int id) {
        if (id < 0 || id >= ByteTokenizer.VOCAB_SIZE) {
            throw new IllegalArgumentException("Cannot decode token id " + id + ": byte ids are 0..255");
        }
        pending.put((byte) id);
        pending.flip();
        chars.clear();
        CoderResult r = decoder.decode(pending, chars, false);
        if (r.isError()) {
            throw new IllegalStateException("Cannot decode UTF-8: " + r); // REPLACE never reports errors
        }
        pending.compact();
        chars.flip();
        return chars.toString();
    }

    /** The text of what is still held back (U+FFFD for an incomplete sequence), and a reset for the next stream. */
    public String finish() {
        pending.flip();
        chars.clear();
        decoder.decode(pending, chars, true);
        decoder.flush(chars);
        decoder.reset();
        pending.clear();
        chars.flip();
        return chars.toString();
    }
}
