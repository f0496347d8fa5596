package io.sparklora.driver;

import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.HfTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Which tokenizer a task uses, as a small serializable value: the model's {@code tokenizer.json} and
 * {@code tokenizer_config.json} (gzipped: a 150k-id tokenizer.json is 11 MB of text, 2 MB packed), or nothing for
 * the byte tokenizer. Executors build the tokenizer once per JVM ({@link #get()}) from these bytes, loading the
 * native library that the application jar carries: no file of the model directory is read on an executor.
 */
public final class TokenizerSpec implements Serializable {
    private static final long serialVersionUID = 2L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TokenizerSpec.class);
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicInteger LOADS = new java.util.concurrent.atomic.AtomicInteger();
    private final byte[] tokenizerJson; // gzipped UTF-8, null: bytes
    private final byte[] tokenizerConfig; // gzipped UTF-8, null: none
    private final String digest;

    private TokenizerSpec(String tokenizerJson, String tokenizerConfig) {
        this.tokenizerJson = tokenizerJson == null ? null : gzip(tokenizerJson);
        this.tokenizerConfig = tokenizerConfig == null ? null : gzip(tokenizerConfig);
        this.digest = io.sparklora.job.Fingerprint.sha256(tokenizerJson == null ? "bytes"
                : "tokenizer.json\n" + tokenizerJson + (tokenizerConfig == null ? ""
                : "\ntokenizer_config.json\n" + tokenizerConfig));
    }

    public static TokenizerSpec bytes() {
        return new TokenizerSpec(null, null);
    }

    /** A Hugging Face tokenizer: the text of tokenizer.json and of tokenizer_config.json (null when absent). */
    public static TokenizerSpec huggingFace(String tokenizerJson, String tokenizerConfig) {
        return new TokenizerSpec(tokenizerJson, tokenizerConfig);
    }

    /** The tokenizer, built on first use in this JVM. */
    public Tokenizer get() {
        if (tokenizerJson == null) {
            return new ByteTokenizer();
        }
        return CACHE.computeIfAbsent(digest, d -> {
            try {
                Path dir = Files.createTempDirectory("spark-lora-tokenizer");
                dir.toFile().deleteOnExit();
                Path json = dir.resolve("tokenizer.json");
                Files.write(json, gunzip(tokenizerJson));
                json.toFile().deleteOnExit();
                if (tokenizerConfig != null) {
                    Path config = dir.resolve(HfTokenizer.CONFIG);
                    Files.write(config, gunzip(tokenizerConfig));
                    config.toFile().deleteOnExit();
                }
                long t0 = System.nanoTime();
                HfTokenizer t = HfTokenizer.load(json);
                LOADS.incrementAndGet();
                LOG.info("Loaded tokenizer.json ({} ids, {}) on this executor in {} ms", t.vocabSize(),
                        t.specialTokens(), (System.nanoTime() - t0) / 1_000_000);
                return t;
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot load the model's tokenizer.json on this executor: "
                        + e.getMessage(), e);
            }
        });
    }

    /** How many times this JVM built a Hugging Face tokenizer from a spec (once per executor and tokenizer). */
    public static int loads() {
        return LOADS.get();
    }

    /** SHA-256 of the tokenizer files' text, or of "bytes" for the byte tokenizer: part of every fingerprint. */
    public String digest() {
        return digest;
    }

    /** Writes tokenizer.json (and tokenizer_config.json) into {@code dir}, so a model written there tokenizes alike. */
    public void writeFiles(Path dir) throws IOException {
        if (tokenizerJson != null) {
            Files.write(dir.resolve("tokenizer.json"), gunzip(tokenizerJson));
        }
        if (tokenizerConfig != null) {
            Files.write(dir.resolve("tokenizer_config.json"), gunzip(tokenizerConfig));
        }
    }

    public String describe() {
        return tokenizerJson == null ? "bytes" : tokenizerConfig == null ? "tokenizer.json"
                : "tokenizer.json + tokenizer_config.json";
    }

    private static byte[] gzip(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] packed) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(packed))) {
            return in.readAllBytes();
        }
    }
}
