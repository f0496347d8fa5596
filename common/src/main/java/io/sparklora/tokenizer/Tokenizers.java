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

    /**
     * As {@link #forModel(Path)}, refusing a tokenizer that can produce ids the model has no embedding for: "Cannot
     * use tokenizer DIR/tokenizer.json: its vocabulary has N ids, more than the model's vocab_size M".
     */
    public static Tokenizer forModel(Path modelDir, int modelVocabSize) throws IOException {
        Tokenizer t = forModel(modelDir);
        checkFits(t.vocabSize(), modelVocabSize, t instanceof HfTokenizer hf ? hf.file().toString() : "bytes");
        return t;
    }

    /** Fails when a tokenizer of {@code tokenizerVocab} ids does not fit a model of {@code modelVocab}. */
    public static void checkFits(int tokenizerVocab, int modelVocab, String tokenizer) {
        if (tokenizerVocab > modelVocab) {
            throw new IllegalArgumentException("Cannot use tokenizer " + tokenizer + ": its vocabulary has "
                    + tokenizerVocab + " ids, more than the model's vocab_size " + modelVocab);
        }
    }

    /** The files of a model directory that make its tokenizer, as transformers' save_pretrained writes them. */
    public static final java.util.List<String> FILES = java.util.List.of("tokenizer.json", HfTokenizer.CONFIG,
            "special_tokens_map.json");

    /** Copies the tokenizer files present in {@code from} into {@code to} (a checkpoint derived from that model). */
    public static void copyFiles(Path from, Path to) throws IOException {
        for (String f : FILES) {
            Path src = from.resolve(f);
            if (Files.isRegularFile(src)) {
                Files.copy(src, to.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
