package io.sparklora.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword
 * Units"; GPT-2's byte-level variant, Radford et al. 2019) and writes it as a Hugging Face {@code tokenizer.json}
 * that the {@code tokenizers} library loads: a ByteLevel pre-tokenizer (GPT-2's split regex), the 256 byte symbols as
 * ids 0..255, one id per merge in merge order, and {@code <|endoftext|>} as the last id (the EOS of
 * {@code tokenizer_config.json}).
 *
 * <p>Training: the text is split into pre-tokens as the pre-tokenizer splits it, each pre-token's UTF-8 bytes become
 * symbols, and the most frequent adjacent pair over all pre-tokens (weighted by their counts; ties to the pair
 * merged from the smallest ids) is merged, left to right without overlap, until the vocabulary is full or no pair
 * occurs twice. Deterministic.
 */
public final class BpeTrainer {
    /** The end-of-text token, the last id. */
    public static final String EOS = "<|endoftext|>";
    /** GPT-2's pre-tokenizer split, as the ByteLevel pre-tokenizer applies it ({@code use_regex: true}). */
    private static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final int vocabSize;
    private final String[] byteSymbol = byteToUnicode(); // GPT-2's printable stand-in for each byte value

    /** A tokenizer of at most {@code vocabSize} ids: 256 bytes, the merges, and the end-of-text token. */
    public BpeTrainer(int vocabSize) {
        if (vocabSize < 257) {
            throw new IllegalArgumentException("Invalid vocabulary size " + vocabSize + ": a byte-level BPE needs at "
                    + "least 257 ids (256 bytes and " + EOS + ")");
        }
        this.vocabSize = vocabSize;
    }

    /** The trained tokenizer: its merges in order, and each training pre-token's final segmentation. */
    public record Result(List<int[]> merges, Map<String, int[]> segmentation) {
    }

    /** Trains on {@code text} (what the pre-tokenizer sees: the raw text, no normalisation). */
    public Result train(String text) {
        Map<String, Integer> counts = new LinkedHashMap<>(); // pre-token -> occurrences, in first-seen order
        Matcher m = SPLIT.matcher(text);
        while (m.find()) {
            counts.merge(m.group(), 1, Integer::sum);
        }
        List<String> words = new ArrayList<>(counts.keySet());
        int[][] symbols = new int[words.size()][]; // per pre-token its current ids
        int[] weight = new int[words.size()];
        for (int w = 0; w < symbols.length; w++) {
            byte[] b = words.get(w).getBytes(StandardCharsets.UTF_8);
            symbols[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                symbols[w][i] = b[i] & 0xff;
            }
            weight[w] = counts.get(words.get(w));
        }
        // pair -> weighted count over all pre-tokens, and the pre-tokens it (may still) occur in
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, List<Integer>> pairWords = new HashMap<>();
        for (int w = 0; w < symbols.length; w++) {
            count(symbols[w], weight[w], w, pairCount, pairWords);
        }
        List<int[]> merges = new ArrayList<>();
        int next = 256;
        while (next < vocabSize - 1) {
            long best = -1;
            long bestCount = 1; // a pair must occur at least twice
            for (Map.Entry<Long, Long> e : pairCount.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && best >= 0 && Long.compareUnsigned(e.getKey(), best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best < 0) {
                break;
            }
            int a = (int) (best >>> 32);
            int b = (int) best;
            merges.add(new int[] {a, b});
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int w : pairWords.remove(best)) {
                if (!seen.add(w)) {
                    continue;
                }
                int[] merged = merge(symbols[w], a, b, next);
                if (merged != symbols[w]) {
                    count(symbols[w], -weight[w], w, pairCount, null);
                    symbols[w] = merged;
                    count(merged, weight[w], w, pairCount, pairWords);
                }
            }
            pairCount.remove(best);
            next++;
        }
        Map<String, int[]> segmentation = new LinkedHashMap<>();
        for (int w = 0; w < symbols.length; w++) {
            segmentation.put(words.get(w), symbols[w]);
        }
        return new Result(merges, segmentation);
    }

    /** Adds {@code weight} for every adjacent pair of s (and, with {@code words}, notes that pre-token w has it). */
    private static void count(int[] s, int weight, int w, Map<Long, Long> pairCount, Map<Long, List<Integer>> words) {
        for (int i = 0; i + 1 < s.length; i++) {
            long pair = ((long) s[i] << 32) | s[i + 1];
            long c = pairCount.merge(pair, (long) weight, Long::sum);
            if (c == 0) {
                pairCount.remove(pair);
            }
            if (words != null) {
                words.computeIfAbsent(pair, k -> new ArrayList<>()).add(w);
            }
        }
    }

    /** Replaces each non-overlapping (a, b), left to right, by id. */
    private static int[] merge(int[] s, int a, int b, int id) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                if (out == null) {
                    out = new int[s.length - 1];
                    System.arraycopy(s, 0, out, 0, i);
                    n = i;
                }
                out[n++] = id;
                i++;
            } else if (out != null) {
                out[n++] = s[i];
            }
        }
        return out == null ? s : java.util.Arrays.copyOf(out, n);
    }

    /** The {@code tokenizer.json} of a trained result. */
    public String tokenizerJson(Result r) {
        List<String> tokens = new ArrayList<>(List.of(byteSymbol));
        for (int[] pair : r.merges()) {
            tokens.add(tokens.get(pair[0]) + tokens.get(pair[1]));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ObjectNode eos = root.putArray("added_tokens").addObject();
        eos.put("id", tokens.size());
        eos.put("content", EOS);
        eos.put("single_word", false);
        eos.put("lstrip", false);
        eos.put("rstrip", false);
        eos.put("normalized", false);
        eos.put("special", true);
        root.putNull("normalizer");
        byteLevel(root.putObject("pre_tokenizer"), false, true);
        byteLevel(root.putObject("post_processor"), true, false);
        byteLevel(root.putObject("decoder"), true, true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
        }
        ArrayNode merges = model.putArray("merges");
        for (int[] pair : r.merges()) {
            merges.add(tokens.get(pair[0]) + " " + tokens.get(pair[1])); // byte symbols never contain a space
        }
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Its {@code tokenizer_config.json}: no BOS, {@code <|endoftext|>} the EOS (GPT-2's conventions). */
    public static String tokenizerConfigJson(int modelMaxLength) {
        return "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"add_bos_token\": false,\n"
                + "  \"bos_token\": null,\n  \"eos_token\": \"" + EOS + "\",\n  \"pad_token\": \"" + EOS + "\",\n"
                + "  \"model_max_length\": " + modelMaxLength + "\n}\n";
    }

    private static void byteLevel(ObjectNode n, boolean addPrefixSpace, boolean trimOffsets) {
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
    }

    /**
     * GPT-2's {@code bytes_to_unicode}: printable Latin-1 bytes stand for themselves, the other 68 byte values map to
     * U+0100 onwards in byte order (so the space is 'Ġ').
     */
    static String[] byteToUnicode() {
        String[] out = new String[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = String.valueOf((char) (printable ? b : 256 + extra++));
        }
        return out;
    }
}
