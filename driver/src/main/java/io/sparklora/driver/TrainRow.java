package io.sparklora.driver;

import io.sparklora.tokenizer.EncodedRow;
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
    public boolean tokenized; // tokens and lossFrom hold the row's encoding (computed once, where the row was read)
    public int[] tokens; // (length) the row's ids with BOS/EOS; null when untrainable or not tokenized
    public int lossFrom; // the first target token of tokens

    public TrainRow() {
    }

    public TrainRow(String text, String prompt, String completion) {
        this.text = text;
        this.prompt = prompt;
        this.completion = completion;
        this.hash = contentHash(text, prompt, completion);
    }

    /** A row with its encoding already computed ({@link #encode}): null for an untrainable row. */
    public TrainRow(String text, String prompt, String completion, EncodedRow encoded) {
        this(text, prompt, completion);
        this.tokenized = true;
        this.tokens = encoded == null ? null : encoded.tokens();
        this.lossFrom = encoded == null ? 0 : encoded.lossFrom();
    }

    /**
     * The row as ids under the tokenizer's conventions ({@link EncodedRow}), or null when it cannot be trained on: a
     * text of fewer than two tokens in all, a missing prompt or completion, an empty completion.
     */
    public static EncodedRow encode(Tokenizer tokenizer, String text, String prompt, String completion) {
        if (prompt != null || completion != null) {
            return prompt == null || completion == null ? null
                    : EncodedRow.promptCompletion(tokenizer, prompt, completion);
        }
        return text == null ? null : EncodedRow.text(tokenizer, text);
    }

    /** The ids this row carries, or (for a row read without them) its encoding now; null when untrainable. */
    public EncodedRow encoded(Tokenizer tokenizer) {
        if (tokenized) {
            return tokens == null ? null : new EncodedRow(tokens, lossFrom);
        }
        return encode(tokenizer, text, prompt, completion);
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

    /**
     * The row's contribution to its key's data digest: the first 128 bits of SHA-256 over the marked UTF-8 fields, as
     * four unsigned 32-bit words. A key's digest sums each word over its rows ({@link DataDigest}): the sum does not
     * depend on row order, and a duplicated row counts twice.
     */
    public static long[] digestWords(String text, String prompt, String completion) {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        for (String field : new String[] {text, prompt, completion}) {
            if (field == null) {
                sha.update((byte) 0);
            } else {
                byte[] b = field.getBytes(StandardCharsets.UTF_8);
                sha.update((byte) 1);
                sha.update(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
                sha.update(b);
            }
        }
        java.nio.ByteBuffer d = java.nio.ByteBuffer.wrap(sha.digest());
        long[] words = new long[DataDigest.WORDS];
        for (int i = 0; i < words.length; i++) {
            words[i] = Integer.toUnsignedLong(d.getInt());
        }
        return words;
    }

    /** The shard of a row for {@code --shards k}: a function of its content and the seed only, not of row order. */
    public static int shardOf(String text, String prompt, String completion, long seed, int shards) {
        long h = new SplitMix64(contentHash(text, prompt, completion) ^ seed).nextLong();
        return (int) Math.floorMod(h, (long) shards);
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
