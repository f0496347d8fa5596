package io.sparklora.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL's binding
 * ({@code ai.djl.huggingface:tokenizers}, whose jar bundles the native library, so loading needs no network).
 *
 * <p>Text is encoded without special tokens and without truncation or padding: windows are packed by the trainer, not
 * by the tokenizer. The vocabulary size is read from the JSON (the model's vocab and the added tokens), because the
 * binding does not expose it.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, int vocabSize) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
    }

    /** Loads {@code tokenizer.json} (the file itself, not its directory). */
    public static HfTokenizer load(Path tokenizerJson) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IOException("Cannot load tokenizer " + tokenizerJson + ": no such file");
        }
        int vocab = readVocabSize(tokenizerJson);
        HuggingFaceTokenizer t;
        try {
            t = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (RuntimeException e) {
            throw new IOException("Cannot load tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
        return new HfTokenizer(tokenizerJson, t, vocab);
    }

    /** One more than the largest id in {@code model.vocab} (a map for BPE/WordLevel/WordPiece, a list for Unigram) and {@code added_tokens}. */
    private static int readVocabSize(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("Cannot load tokenizer " + file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode vocab = root.path("model").path("vocab");
        long max = -1;
        if (vocab.isObject()) {
            for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) {
                max = Math.max(max, it.next().asLong(-1));
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1L;
        } else {
            throw new IOException("Cannot load tokenizer " + file + ": model.vocab is missing");
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asLong(-1));
        }
        if (max < 0 || max >= Integer.MAX_VALUE) {
            throw new IOException("Cannot load tokenizer " + file + ": largest token id " + max + " is out of range");
        }
        return (int) max + 1;
    }

    @Override
    public int[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, false);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** The tokenizer.json this was loaded from. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
