package io.sparklora.driver;

import io.sparklora.job.Example;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.util.SplitMix64;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Objects;

/**
 * One data row on its way to its adapter's task: {@code text}, or {@code prompt} and {@code completion}. A plain class
 * with public fields (Kryo sets fields; it cannot set a record's).
 *
 * <p>Rows are ordered by content ({@link #ORDER}), never by arrival: the shuffle delivers them in any order, and a
 * retried task must pack exactly the same windows to resume from its checkpoint.
 */
public final class TrainRow implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Content order: the 64-bit content hash, then the fields themselves (for equal hashes). */
    public static final Comparator<TrainRow> ORDER = Comparator.comparingLong((TrainRow r) -> r.hash)
            .thenComparing(r -> r.text, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(r -> r.prompt, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(r -> r.completion, Comparator.nullsFirst(Comparator.naturalOrder()));

    public String text;
    public String prompt;
    public String completion;
    public long hash; // contentHash(text, prompt, completion)

    public TrainRow() {
    }

    public TrainRow(String text, String prompt, String completion) {
        this.text = text;
        this.prompt = prompt;
        this.completion = completion;
        this.hash = contentHash(text, prompt, completion);
    }

    /**
     * 64-bit FNV-1a over the UTF-8 fields, each preceded by a marker byte (absent/present) so that ("ab", null) and
     * ("a", "b") differ, finished with one SplitMix64 step.
     */
    public static long contentHash(String text, String prompt, String completion) {
        long h = 0xcbf29ce484222325L;
        for (String field : new String[] {text, prompt, completion}) {
            h = (h ^ (field == null ? 0 : 1)) * 0x100000001b3L;
            if (field != null) {
                for (byte b : field.getBytes(StandardCharsets.UTF_8)) {
                    h = (h ^ (b & 0xff)) * 0x100000001b3L;
                }
            }
        }
        return new SplitMix64(h).nextLong();
    }

    /** The shard of a row for {@code --shards k}: a function of its content and the seed only, not of row order. */
    public static int shardOf(String text, String prompt, String completion, long seed, int shards) {
        long h = new SplitMix64(contentHash(text, prompt, completion) ^ seed).nextLong();
        return (int) Math.floorMod(h, (long) shards);
    }

    /**
     * Whether the row can be trained on: a text of at least two tokens, or a non-empty completion with at least two
     * tokens in prompt + completion (WindowPacker refuses anything shorter).
     */
    public boolean trainable(Tokenizer tokenizer) {
        if (prompt != null || completion != null) {
            if (prompt == null || completion == null) {
                return false;
            }
            int c = tokenizer.encode(completion).length;
            return c > 0 && c + tokenizer.encode(prompt).length >= 2;
        }
        return text != null && tokenizer.encode(text).length >= 2;
    }

    public Example toExample() {
        return prompt != null || completion != null ? Example.promptCompletion(prompt, completion)
                : Example.text(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainRow r && Objects.equals(text, r.text) && Objects.equals(prompt, r.prompt)
                && Objects.equals(completion, r.completion);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hash);
    }
}
