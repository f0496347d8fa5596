package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {
    /** A hand-written WordLevel tokenizer.json: whitespace pre-tokenizer, six words, [UNK] as an added token at id 6. */
    private static final String WORD_LEVEL = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [{"id": 6, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false,
                               "normalized": false, "special": true}],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
             "model": {"type": "WordLevel",
                       "vocab": {"hello": 0, "world": 1, "the": 2, "cat": 3, "sat": 4, "mat": 5, "[UNK]": 6},
                       "unk_token": "[UNK]"}}
            """;

    @Test
    void hfTokenizerLoadsWordLevelJsonOffline(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), WORD_LEVEL);
        Tokenizer t = Tokenizers.forModel(dir);
        HfTokenizer hf = assertInstanceOf(HfTokenizer.class, t);
        assertArrayEquals(new int[] {2, 3, 4, 5}, t.encode("the cat sat mat"));
        assertArrayEquals(new int[] {0, 6, 1}, t.encode("hello dog world"));
        assertEquals("the cat sat", t.decode(new int[] {2, 3, 4}));
        assertEquals(7, t.vocabSize());
        hf.close();
    }

    @Test
    void modelWithoutTokenizerJsonUsesBytes(@TempDir Path dir) throws IOException {
        assertInstanceOf(ByteTokenizer.class, Tokenizers.forModel(dir));
    }

    @Test
    void brokenTokenizerJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\": {\"type\": \"WordLevel\"}}");
        IOException e = assertThrows(IOException.class, () -> Tokenizers.forModel(dir));
        assertEquals("Cannot load tokenizer " + f + ": model.vocab is missing", e.getMessage());
    }
}
