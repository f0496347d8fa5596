package io.sparklora.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.util.Utf8;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL's binding
 * ({@code ai.djl.huggingface:tokenizers}, whose jar bundles the native library, so loading needs no network).
 *
 * <p>Text is encoded without special tokens and without truncation or padding: windows are packed by the trainer, not
 * by the tokenizer, which adds BOS/EOS itself ({@link EncodedRow}, from {@link #specialTokens()}). The vocabulary size is read from the JSON (the model's vocab and the added tokens), because the
 * binding does not expose it.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
    /** The file beside tokenizer.json that names the special tokens (transformers' {@code save_pretrained}). */
    public static final String CONFIG = "tokenizer_config.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final SpecialTokens special;

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, int vocabSize, SpecialTokens special) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.special = special;
    }

    /**
     * Loads {@code tokenizer.json} (the file itself, not its directory) and, when present beside it,
     * {@code tokenizer_config.json} for the special tokens: {@code eos_token} is the EOS; the BOS is
     * {@code bos_token} where {@code add_bos_token} is true, or the token the tokenizer.json post-processor puts
     * before every sequence (Llama 3's template), else none.
     */
    public static HfTokenizer load(Path tokenizerJson) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IOException("Cannot load tokenizer " + tokenizerJson + ": no such file");
        }
        // checked in Java first: the native library sees only a file of the layout it writes (TokenizerJson)
        TokenizerJson.Checked checked = TokenizerJson.parse(Utf8.readFile(tokenizerJson, "load tokenizer"),
                tokenizerJson.toString());
        JsonNode root = checked.root();
        int vocab = checked.vocabSize();
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
        Path configFile = tokenizerJson.resolveSibling(CONFIG);
        JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile) : null;
        try {
            return new HfTokenizer(tokenizerJson, t, vocab, specialTokens(root, config, t, configFile));
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("Cannot load tokenizer " + file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The vocabulary size of a tokenizer.json's text ({@code source} names it in messages), checked as by {@link #load}. */
    public static int vocabSize(String tokenizerJson, String source) throws IOException {
        return TokenizerJson.parse(tokenizerJson, source).vocabSize();
    }

    private static SpecialTokens specialTokens(JsonNode root, JsonNode config, HuggingFaceTokenizer t,
                                               Path configFile) throws IOException {
        int eos = -1;
        int bos = -1;
        if (config != null) {
            eos = idOf(root, tokenText(config.get("eos_token")), configFile, "eos_token");
            if (config.path("add_bos_token").asBoolean(false)) {
                bos = idOf(root, tokenText(config.get("bos_token")), configFile, "bos_token");
                if (bos < 0) {
                    throw new IOException("Cannot load tokenizer " + configFile + ": add_bos_token is true but "
                            + "bos_token is missing");
                }
            }
        }
        if (bos < 0) {
            // what the post-processor puts before one sequence: compare "a" with and without special tokens
            long[] plain = t.encode("a", false, false).getIds();
            long[] full = t.encode("a", true, false).getIds();
            if (full.length > plain.length && !Arrays.equals(plain, 0, plain.length, full, 0, plain.length)) {
                bos = Math.toIntExact(full[0]);
            }
        }
        return new SpecialTokens(bos, eos);
    }

    /** A token named in tokenizer_config.json: a string, or an AddedToken object's {@code content}; null if absent. */
    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isObject() ? n.path("content").asText(null) : n.asText();
    }

    /** The id of a token's text among the added tokens or the model's vocabulary; -1 for null. */
    private static int idOf(JsonNode root, String token, Path configFile, String field) throws IOException {
        if (token == null) {
            return -1;
        }
        for (JsonNode added : root.path("added_tokens")) {
            if (token.equals(added.path("content").asText(null))) {
                return added.path("id").asInt();
            }
        }
        JsonNode id = root.path("model").path("vocab").get(token);
        if (id != null && id.canConvertToInt()) {
            return id.asInt();
        }
        throw new IOException("Cannot load tokenizer " + configFile + ": " + field + " '" + token
                + "' is not a token of tokenizer.json");
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

    @Override
    public SpecialTokens specialTokens() {
        return special;
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
