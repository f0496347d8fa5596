package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Byte-by-byte decoding holds a character back until its UTF-8 bytes are complete. */
class Utf8StreamDecoderTest {
    @Test
    void multiByteCharactersAppearWhenComplete() {
        String text = "aé€😀ß";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8); // 1 + 2 + 3 + 4 + 2 bytes
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        String[] perByte = new String[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            perByte[i] = d.accept(bytes[i] & 0xFF);
            out.append(perByte[i]);
        }
        assertEquals("a", perByte[0]);
        assertEquals("", perByte[1]);
        assertEquals("é", perByte[2]);
        assertEquals("", perByte[4]);
        assertEquals("€", perByte[5]);
        assertEquals("", perByte[8]);
        assertEquals("😀", perByte[9]);
        assertEquals(text, out.toString());
        assertEquals("", d.finish());
    }

    @Test
    void incompleteAndInvalidBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("x", d.accept('x'));
        assertEquals("", d.accept(0xE2)); // first of three bytes of €
        assertEquals("", d.accept(0x82));
        assertEquals("\uFFFD", d.finish(), "a cut-off sequence at the end");
        assertEquals("\uFFFDy", d.accept(0xFF) + d.accept('y'), "0xFF is never valid UTF-8");
        assertEquals("", d.finish());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.accept(256));
        assertEquals("Cannot decode token id 256: byte ids are 0..255", e.getMessage());
    }
}
