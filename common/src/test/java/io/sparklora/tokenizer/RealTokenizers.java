package io.sparklora.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/** The shipped real tokenizers ({@code src/test/resources/tokenizers/}, see its README), unpacked into a directory. */
public final class RealTokenizers {
    private RealTokenizers() {
    }

    /** Writes {@code dir/tokenizer.json} and {@code dir/tokenizer_config.json} of "qwen3" or "gpt2"; returns dir. */
    public static Path install(String name, Path dir) {
        try {
            Files.createDirectories(dir);
            try (InputStream gz = resource(name + "/tokenizer.json.gz"); InputStream in = new GZIPInputStream(gz)) {
                Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            try (InputStream in = resource(name + "/tokenizer_config.json")) {
                Files.copy(in, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String path) {
        InputStream in = RealTokenizers.class.getResourceAsStream("/tokenizers/" + path);
        if (in == null) {
            throw new IllegalStateException("Cannot find test resource tokenizers/" + path);
        }
        return in;
    }
}
