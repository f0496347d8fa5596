package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteTokenizerTest {
    private final Tokenizer tokenizer = new ByteTokenizer();

    @Test
    void idsAreTheUtf8Bytes() {
        assertArrayEquals(new int[] {97, 0xC3, 0xA9, 0xE2, 0x82, 0xAC}, tokenizer.encode("aé€"));
        assertEquals("aé€ x", tokenizer.decode(tokenizer.encode("aé€ x")));
        assertEquals(256, tokenizer.vocabSize());
        assertArrayEquals(new int[] {255, 0, 128}, new ByteTokenizer().encodeBytes(new byte[] {-1, 0, -128}));
    }

    @Test
    void decodeRefusesIdsThatAreNotBytes() {
        assertEquals("Cannot decode token id 256 at position 1: byte ids are 0..255", assertThrows(
                IllegalArgumentException.class, () -> tokenizer.decode(new int[] {65, 256})).getMessage());
    }
}
