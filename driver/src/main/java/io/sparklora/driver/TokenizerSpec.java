package io.sparklora.driver;

import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.HfTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which tokenizer a task uses, as a small serializable value: the text of the model's {@code tokenizer.json}, or null
 * for the byte tokenizer. Executors build the tokenizer once per JVM ({@link #get()}).
 */
public final class TokenizerSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();
    private final String tokenizerJson; // null: bytes

    private TokenizerSpec(String tokenizerJson) {
        this.tokenizerJson = tokenizerJson;
    }

    public static TokenizerSpec bytes() {
        return new TokenizerSpec(null);
    }

    public static TokenizerSpec huggingFace(String tokenizerJson) {
        return new TokenizerSpec(tokenizerJson);
    }

    /** The tokenizer, built on first use in this JVM. */
    public Tokenizer get() {
        if (tokenizerJson == null) {
            return new ByteTokenizer();
        }
        return CACHE.computeIfAbsent(tokenizerJson, json -> {
            try {
                Path tmp = Files.createTempFile("spark-lora-tokenizer", ".json");
                Files.writeString(tmp, json, StandardCharsets.UTF_8);
                tmp.toFile().deleteOnExit();
                return HfTokenizer.load(tmp);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot load the model's tokenizer.json on this executor: "
                        + e.getMessage(), e);
            }
        });
    }

    /** SHA-256 of the tokenizer.json text, or of "bytes" for the byte tokenizer: part of every fingerprint. */
    public String digest() {
        return io.sparklora.job.Fingerprint.sha256(tokenizerJson == null ? "bytes" : "tokenizer.json\n" + tokenizerJson);
    }

    public String describe() {
        return tokenizerJson == null ? "bytes" : "tokenizer.json";
    }
}
