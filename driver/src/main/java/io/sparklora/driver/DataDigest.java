package io.sparklora.driver;

import io.sparklora.job.Fingerprint;

/**
 * The order-independent digest of one key's rows: the row count and, for each of {@value #WORDS} 32-bit words of
 * every row's content hash ({@link TrainRow#digestWords}), the sum over the rows — computed by one Spark aggregation
 * at planning, hashed here into the data part of the adapter's {@link Fingerprint}. Rows added, removed, edited or
 * duplicated change it; the order rows arrive in (files, partitions, shuffles) does not.
 */
final class DataDigest {
    static final int WORDS = 4;

    private DataDigest() {
    }

    /** SHA-256 (hex) of the row count and the word sums. */
    static String of(long rows, long[] wordSums) {
        if (wordSums.length != WORDS) {
            throw new IllegalArgumentException("Invalid data digest: " + wordSums.length + " word sums, expected "
                    + WORDS);
        }
        StringBuilder sb = new StringBuilder("rows ").append(rows);
        for (long w : wordSums) {
            sb.append(' ').append(w);
        }
        return Fingerprint.sha256(sb.toString());
    }
}
