package io.sparklora.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The end-of-sequence token ids of a Hugging Face checkpoint directory: {@code eos_token_id} of
 * {@code generation_config.json} when present (it overrides, as transformers' {@code generate} does), else of
 * {@code config.json}; an id or a list of ids; none when absent or null (the byte-level demo base has none).
 */
public final class EosTokens {
    private EosTokens() {
    }

    /**
     * The ids that end generation: {@link #read}'s, and the tokenizer's EOS ({@code tokenizer_config.json}'s
     * {@code eos_token}, what every training row ended with) when it is not among them.
     */
    public static int[] read(Path modelDir, int vocab, io.sparklora.tokenizer.Tokenizer tokenizer)
            throws IOException {
        int[] ids = read(modelDir, vocab);
        int eos = tokenizer.specialTokens().eos();
        if (eos < 0 || java.util.Arrays.stream(ids).anyMatch(i -> i == eos)) {
            return ids;
        }
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }

    public static int[] read(Path modelDir, int vocab) throws IOException {
        for (String file : new String[] {"generation_config.json", "config.json"}) {
            Path p = modelDir.resolve(file);
            if (!Files.isRegularFile(p)) {
                continue;
            }
            JsonNode eos = new ObjectMapper().readTree(p.toFile()).get("eos_token_id");
            if (eos == null || eos.isNull()) {
                continue;
            }
            Set<Integer> ids = new LinkedHashSet<>();
            for (JsonNode n : eos.isArray() ? eos : java.util.List.of(eos)) {
                if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= vocab) {
                    throw new IOException("Cannot read eos_token_id of " + p + ": " + n
                            + " is not a token id below the vocabulary size " + vocab);
                }
                ids.add(n.asInt());
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
        return new int[0];
    }
}
