package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our byte-level BPE trainer against the Rust {@code tokenizers} library (through DJL) loading what it wrote: every
 * training pre-token encodes to the segmentation the trainer ended with, any text (unseen words, other scripts,
 * emoji) round-trips, and the merges compress the training text.
 */
class BpeTrainerTest {
    static final String TEXT = String.join("\n",
            "Der frühe Vogel fängt den Wurm. Der frühe Vogel fängt den Wurm, sagt man.",
            "The early bird catches the worm; the early bird catches the worm, they say.",
            "El que madruga, Dios le ayuda. El que madruga, Dios le ayuda siempre.",
            "Chi dorme non piglia pesci. Chi dorme non piglia pesci, dicono.") .repeat(6);

    @Test
    void rustTokenizersReadsTheTrainedFileAndAgreesWithTheTrainer(@TempDir Path tmp) throws IOException {
        assertEquals(104, new BpeTrainer(1000).train(TEXT).merges().size(), "stops when no pair occurs twice");
        BpeTrainer trainer = new BpeTrainer(300);
        BpeTrainer.Result r = trainer.train(TEXT);
        assertEquals(300 - 257, r.merges().size(), "the vocabulary fills");
        Files.writeString(tmp.resolve("tokenizer.json"), trainer.tokenizerJson(r));
        Files.writeString(tmp.resolve("tokenizer_config.json"), BpeTrainer.tokenizerConfigJson(256));
        try (HfTokenizer t = HfTokenizer.load(tmp.resolve("tokenizer.json"))) {
            assertEquals(300, t.vocabSize());
            assertEquals(new SpecialTokens(-1, 299), t.specialTokens());
            for (Map.Entry<String, int[]> e : r.segmentation().entrySet()) {
                assertArrayEquals(e.getValue(), t.encode(e.getKey()), "pre-token '" + e.getKey() + "'");
            }
            int bytes = TEXT.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            int[] ids = t.encode(TEXT);
            assertTrue(ids.length < bytes * 2 / 3, ids.length + " tokens for " + bytes + " bytes");
            assertEquals(TEXT, t.decode(ids));
            for (String s : new String[] {"Unbekannte Wörter: Äpfel, Öl, Übermut!", "你好，世界 🤗", "tabs\tand\n\nlines  "}) {
                assertEquals(s, t.decode(t.encode(s)), s);
            }
            assertArrayEquals(new int[] {299}, t.encode(BpeTrainer.EOS));
        }
        assertEquals(trainer.tokenizerJson(r), trainer.tokenizerJson(new BpeTrainer(300).train(TEXT)),
                "training is deterministic");
    }

    @Test
    void smallVocabularyIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(100));
        assertEquals("Invalid vocabulary size 100: a byte-level BPE needs at least 257 ids (256 bytes and "
                + "<|endoftext|>)", e.getMessage());
    }

    @Test
    void byteSymbolsAreGpt2s() {
        String[] s = BpeTrainer.byteToUnicode();
        assertEquals("Ġ", s[' ']);
        assertEquals("Ċ", s['\n']);
        assertEquals("A", s['A']);
        assertEquals(256, java.util.Set.of(s).size());
    }
}
