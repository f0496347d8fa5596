package io.sparklora.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The checks a {@code tokenizer.json} passes in Java before the native {@code tokenizers} library sees it, so that a
 * damaged file is refused with a message naming the field rather than reaching Rust code whose failures (a panic
 * across JNI) can take the JVM down: a JSON object without repeated keys, nested at most {@link #MAX_DEPTH} deep; a
 * {@code model} of a known type whose vocabulary maps tokens to ids in [0, 2^31 - 1) (Unigram: a list of
 * [token, score] pairs); BPE merges as "a b" strings or [a, b] pairs; added tokens with an id and a content; and the
 * pipeline stages (normalizer, pre_tokenizer, post_processor, decoder) null or objects naming their type. The layout
 * is the one the library serialises (its {@code Tokenizer::save}).
 */
final class TokenizerJson {
    /** Deeper than any pipeline the library writes (a Sequence of Sequences is 4 levels); serde_json stops at 128. */
    static final int MAX_DEPTH = 64;
    /**
     * The longest token, in characters. Real vocabularies stay under a few hundred; the native Unigram model keeps its
     * tokens in a trie whose drop recurses once per character, so a 66,000-character token overflowed the thread's
     * stack and killed the JVM (SIGSEGV) when the tokenizer was closed.
     */
    static final int MAX_TOKEN_CHARS = 4096;
    private static final Set<String> MODELS = Set.of("BPE", "WordPiece", "WordLevel", "Unigram");
    private static final Set<String> STAGES = Set.of("normalizer", "pre_tokenizer", "post_processor", "decoder");

    /** A checked document and its vocabulary size (one more than the largest id of the model and added tokens). */
    record Checked(JsonNode root, int vocabSize) {
    }

    private final String source; // names the file in messages

    private TokenizerJson(String source) {
        this.source = source;
    }

    /** Parses and checks the text of a tokenizer.json; {@code source} names it in messages. */
    static Checked parse(String text, String source) throws IOException {
        JsonNode root;
        try {
            root = StrictJson.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException("Cannot load tokenizer " + source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        return new TokenizerJson(source).check(root);
    }

    private Checked check(JsonNode root) throws IOException {
        if (root == null || !root.isObject()) {
            throw fail("the file is not a JSON object");
        }
        checkDepth(root, 0);
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw fail("model must be an object, got " + brief(model));
        }
        JsonNode type = model.get("type");
        if (type == null || !type.isTextual() || !MODELS.contains(type.textValue())) {
            throw fail("model.type must be one of " + MODELS + ", got " + brief(type));
        }
        long max = type.textValue().equals("Unigram") ? unigramVocab(model.get("vocab")) : vocab(model.get("vocab"));
        if (type.textValue().equals("BPE")) {
            checkMerges(model.get("merges"));
        }
        checkUnknownToken(type.textValue(), model);
        JsonNode added = root.get("added_tokens");
        if (added != null && !added.isNull()) {
            if (!added.isArray()) {
                throw fail("added_tokens must be a list, got " + brief(added));
            }
            for (JsonNode t : added) {
                if (!t.isObject() || !t.path("content").isTextual()) {
                    throw fail("each of added_tokens must be an object with a string content, got " + brief(t));
                }
                checkToken("added_tokens", t.get("content").textValue());
                max = Math.max(max, id("added token " + brief(t.get("content")), t.get("id")));
            }
        }
        for (String stage : STAGES) {
            checkStage(stage, root.get(stage));
        }
        if (max < 0) {
            throw fail("the vocabulary is empty");
        }
        return new Checked(root, (int) max + 1);
    }

    /** A token → id map; returns the largest id. */
    private long vocab(JsonNode vocab) throws IOException {
        if (vocab == null) {
            throw fail("model.vocab is missing");
        }
        if (!vocab.isObject()) {
            throw fail("model.vocab must be an object of token ids, got " + brief(vocab));
        }
        long max = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            checkToken("model.vocab", e.getKey());
            max = Math.max(max, id("token " + brief(e.getKey()), e.getValue()));
        }
        return max;
    }

    /** Unigram's list of [token, log-probability]; returns the largest id (the list's last index). */
    private long unigramVocab(JsonNode vocab) throws IOException {
        if (vocab == null) {
            throw fail("model.vocab is missing");
        }
        if (!vocab.isArray()) {
            throw fail("model.vocab of a Unigram model must be a list of [token, score] pairs, got " + brief(vocab));
        }
        for (JsonNode p : vocab) {
            if (!p.isArray() || p.size() != 2 || !p.get(0).isTextual() || !p.get(1).isNumber()) {
                throw fail("model.vocab of a Unigram model must hold [token, score] pairs, got " + brief(p));
            }
            checkToken("model.vocab", p.get(0).textValue());
        }
        return vocab.size() - 1L;
    }

    private void checkMerges(JsonNode merges) throws IOException {
        if (merges == null || !merges.isArray()) {
            throw fail("model.merges of a BPE model must be a list, got " + brief(merges));
        }
        for (JsonNode m : merges) {
            boolean pair = m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual();
            boolean text = m.isTextual() && m.textValue().indexOf(' ') > 0
                    && m.textValue().indexOf(' ') == m.textValue().lastIndexOf(' ')
                    && !m.textValue().endsWith(" ");
            if (!pair && !text) {
                throw fail("each of model.merges must be \"a b\" or [\"a\", \"b\"], got " + brief(m));
            }
        }
    }

    /** A pipeline stage: null, or an object with a string type; a Sequence's members likewise. */
    private void checkStage(String what, JsonNode stage) throws IOException {
        if (stage == null || stage.isNull()) {
            return;
        }
        if (!stage.isObject() || !stage.path("type").isTextual()) {
            throw fail(what + " must be null or an object with a string type, got " + brief(stage));
        }
        for (String list : new String[] {"normalizers", "pretokenizers", "processors", "decoders"}) {
            JsonNode members = stage.get(list);
            if (members != null) {
                if (!members.isArray()) {
                    throw fail(what + "." + list + " must be a list, got " + brief(members));
                }
                for (JsonNode m : members) {
                    checkStage(what + "." + list + " member", m);
                }
            }
        }
    }

    /**
     * The token an unknown word becomes must exist, or the native library fails on the first unknown word of a text
     * ("WordLevel error: Missing [UNK] token from the vocabulary") instead of at load. WordLevel and WordPiece default
     * it to {@code <unk>} and {@code [UNK]}; BPE has none by default; Unigram names it by {@code unk_id}.
     */
    private void checkUnknownToken(String type, JsonNode model) throws IOException {
        if (type.equals("Unigram")) {
            JsonNode unkId = model.get("unk_id");
            if (unkId != null && !unkId.isNull() && (!unkId.isIntegralNumber() || !unkId.canConvertToInt()
                    || unkId.intValue() < 0 || unkId.intValue() >= model.get("vocab").size())) {
                throw fail("model.unk_id " + brief(unkId) + " is not an index of model.vocab");
            }
            return;
        }
        JsonNode unk = model.get("unk_token");
        if (unk != null && !unk.isNull() && !unk.isTextual()) {
            throw fail("model.unk_token must be a string or null, got " + brief(unk));
        }
        String token = unk != null && unk.isTextual() ? unk.textValue()
                : unk != null || type.equals("BPE") ? null : type.equals("WordLevel") ? "<unk>" : "[UNK]";
        if (token != null && !model.get("vocab").has(token)) {
            throw fail("model.unk_token " + brief(token) + (unk == null ? " (the default)" : "")
                    + " is not in model.vocab");
        }
    }

    private void checkToken(String where, String token) throws IOException {
        if (token.length() > MAX_TOKEN_CHARS) {
            throw fail(where + " has a token of " + token.length() + " characters (" + brief(token) + "); at most "
                    + MAX_TOKEN_CHARS + " are allowed");
        }
    }

    private long id(String what, JsonNode id) throws IOException {
        if (id == null || !id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0
                || id.intValue() == Integer.MAX_VALUE) {
            throw fail(what + " has id " + brief(id) + ": ids must be integers in [0, 2^31 - 1)");
        }
        return id.intValue();
    }

    private void checkDepth(JsonNode n, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw fail("nested more than " + MAX_DEPTH + " levels deep");
        }
        if (n.isContainerNode()) {
            for (JsonNode c : n) {
                checkDepth(c, depth + 1);
            }
        }
    }

    private IOException fail(String problem) {
        return new IOException("Cannot load tokenizer " + source + ": " + problem);
    }

    /** A value for a message, cut to 60 characters (a vocabulary can be megabytes). */
    private static String brief(Object value) {
        String s = value == null ? "nothing" : value instanceof String str ? "'" + str + "'" : value.toString();
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }
}
