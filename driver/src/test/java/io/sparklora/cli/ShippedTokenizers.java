package io.sparklora.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/** The real tokenizers shipped as the common module's test resources (its src/test/resources/tokenizers/README.md). */
public final class ShippedTokenizers {
    private ShippedTokenizers() {
    }

    /** Writes "qwen3" or "gpt2"'s tokenizer.json and tokenizer_config.json into {@code modelDir}; returns it. */
    public static Path install(String name, Path modelDir) throws IOException {
        Path res = Path.of("..", "common", "src", "test", "resources", "tokenizers", name);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(res.resolve("tokenizer.json.gz")))) {
            Files.copy(in, modelDir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.copy(res.resolve("tokenizer_config.json"), modelDir.resolve("tokenizer_config.json"),
                StandardCopyOption.REPLACE_EXISTING);
        return modelDir;
    }
}
