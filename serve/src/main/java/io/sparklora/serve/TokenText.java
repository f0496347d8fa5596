package io.sparklora.serve;

import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Token strings and character offsets for OpenAI's {@code logprobs}. Byte-level ids: an ASCII byte is its character,
 * any other byte {@code bytes:\xNN} (OpenAI's spelling for tokens that are not whole characters); a token's offset is
 * the number of characters completed before it. Other tokenizers: a token is its own decoding, and its offset the
 * length of the decoded ids before it.
 */
final class TokenText {
    private final Tokenizer tokenizer;
    private final boolean bytes;

    TokenText(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.bytes = tokenizer instanceof ByteTokenizer;
    }

    String token(int id) {
        if (bytes) {
            return id < 0x80 ? String.valueOf((char) id) : String.format("bytes:\\x%02x", id);
        }
        return tokenizer.decode(new int[] {id});
    }

    /** The text of ids (a prompt given as ids, for echo). */
    String decode(int[] ids) {
        return tokenizer.decode(ids);
    }

    /** (ids.length) character offsets of each token within the decoded ids, plus {@code start}. */
    int[] offsets(int[] ids, int start) {
        int[] out = new int[ids.length];
        int chars = 0;
        for (int i = 0; i < ids.length; i++) {
            out[i] = start + (bytes ? chars : tokenizer.decode(Arrays.copyOf(ids, i)).length());
            if (bytes) {
                int b = ids[i];
                if ((b & 0xC0) != 0x80) { // a lead byte starts one character (two UTF-16 units for 4-byte ones)
                    chars += b >= 0xF0 ? 2 : 1;
                }
            }
        }
        return out;
    }
}
