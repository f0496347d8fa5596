package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.fuzz.Fuzz;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the Java check of tokenizer.json refuses before the native library sees the file. */
class TokenizerJsonTest {
    private static final String UNIGRAM = new String(Fuzz.resources("/fuzz/tokenizer", "unigram.json").get(0),
            StandardCharsets.UTF_8);

    private static String refusal(String json) {
        return assertThrows(IOException.class, () -> TokenizerJson.parse(json, "t.json")).getMessage();
    }

    /**
     * Found by the native fuzz test: a Unigram token of 66,087 characters loaded and encoded, then the JVM died of
     * SIGSEGV when the tokenizer was closed (the native trie's drop recursed once per character).
     */
    @Test
    void overlongTokenIsRefusedInJava(@TempDir Path dir) throws IOException {
        String json = UNIGRAM.replace("[\"w\",-3.0]", "[\"" + "a".repeat(66_087) + "\",-3.0]");
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        IOException e = assertThrows(IOException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().startsWith("Cannot load tokenizer " + f + ": model.vocab has a token of 66087 "
                + "characters ('aaaa"), e.getMessage());
        assertTrue(e.getMessage().endsWith("at most 4096 are allowed"), e.getMessage());
    }

    /**
     * Found by the native fuzz test: a WordLevel model whose unk_token is not in its vocabulary loaded, then encode()
     * threw a bare RuntimeException ("WordLevel error: Missing [UNK] token from the vocabulary") on the first unknown
     * word, in the middle of a training task.
     */
    @Test
    void unknownTokenMustBeInTheVocabulary() {
        String wordLevel = "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0},\"unk_token\":\"[UNK]\"}}";
        assertEquals("Cannot load tokenizer t.json: model.unk_token '[UNK]' is not in model.vocab", refusal(wordLevel));
        assertEquals("Cannot load tokenizer t.json: model.unk_token '<unk>' (the default) is not in model.vocab",
                refusal("{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0}}}"));
        assertEquals("Cannot load tokenizer t.json: model.unk_id 11 is not an index of model.vocab",
                refusal(UNIGRAM.replace("\"unk_id\":0", "\"unk_id\":11")));
    }

    @Test
    void unigramSeedIsAcceptedWithItsSize() throws IOException {
        assertEquals(11, TokenizerJson.parse(UNIGRAM, "t.json").vocabSize());
    }

    @Test
    void fieldsOfTheWrongShapeAreNamed() {
        String type = refusal("{\"model\":{\"type\":\"Bpe\",\"vocab\":{}}}");
        assertTrue(type.startsWith("Cannot load tokenizer t.json: model.type must be one of [") && type.endsWith(
                "], got \"Bpe\""), type);
        assertEquals("Cannot load tokenizer t.json: token 'a' has id -1: ids must be integers in [0, 2^31 - 1)",
                refusal("{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":-1}}}"));
        assertEquals("Cannot load tokenizer t.json: each of model.merges must be \"a b\" or [\"a\", \"b\"], got "
                + "\"a b c\"", refusal("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b c\"]}}"));
        assertEquals("Cannot load tokenizer t.json: pre_tokenizer must be null or an object with a string type, got "
                + "[]", refusal(UNIGRAM.replaceFirst("\"pre_tokenizer\":\\{[^}]*}", "\"pre_tokenizer\":[]")));
        assertEquals("Cannot load tokenizer t.json: nested more than 64 levels deep",
                refusal(UNIGRAM.replace("\"normalizer\":null", "\"normalizer\":" + "[".repeat(70) + "]".repeat(70))));
    }
}
