package io.sparklora.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sparklora.tokenizer.HfTokenizer;
import io.sparklora.tokenizer.RealTokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming the text of byte-level BPE ids one at a time releases only whole characters. */
class TextStreamTest {
    @Test
    void aCharacterSplitOverTokensIsReleasedWhole(@TempDir Path tmp) throws IOException {
        try (HfTokenizer qwen3 = HfTokenizer.load(RealTokenizers.install("qwen3", tmp).resolve("tokenizer.json"))) {
            // "emoji 🤗🚀 and": 🤗's four UTF-8 bytes are the tokens 11162, 97, 245 (ids from the reference)
            int[] ids = {37523, 11162, 97, 245, 145836, 323};
            TextStream stream = new TextStream(qwen3, new StopStrings(List.of()));
            StringBuilder released = new StringBuilder();
            for (int id : ids) {
                String delta = stream.accept(id);
                assertFalse(delta.contains("\uFFFD"), "a partial character was released after id " + id);
                released.append(delta);
            }
            released.append(stream.finish());
            assertEquals("emoji 🤗🚀 and", released.toString());
            // generation that ends inside a character releases the replacement at the end, as decode does
            TextStream cut = new TextStream(qwen3, new StopStrings(List.of()));
            String part = cut.accept(37523) + cut.accept(11162);
            assertEquals("emoji ", part, "the space before the cut character is released");
            assertEquals(qwen3.decode(new int[] {37523, 11162}).substring(6), cut.finish());
        }
    }
}
