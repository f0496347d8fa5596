package io.sparklora.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the tokenizer of a model directory: its {@code tokenizer.json} when present, bytes otherwise. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** {@link HfTokenizer} over {@code modelDir/tokenizer.json} if that file exists, else {@link ByteTokenizer}. */
    public static Tokenizer forModel(Path modelDir) throws IOException {
        Path json = modelDir.resolve("tokenizer.json");
        return Files.exists(json) ? HfTokenizer.load(json) : new ByteTokenizer();
    }
}
