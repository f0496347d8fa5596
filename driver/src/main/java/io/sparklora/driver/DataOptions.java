package io.sparklora.driver;

import java.io.Serializable;
import java.util.Locale;

/**
 * How the training data is read and split into adapters; recorded in manifest.json so that {@code eval} reads and
 * splits the data exactly as {@code train} did.
 *
 * @param path             the data (file, directory or glob) on any Hadoop file system
 * @param format           jsonl, parquet, csv or text
 * @param textColumn       the text column (the {@code value} column for the text format unless named otherwise)
 * @param promptColumn     the prompt column, or null for text rows
 * @param completionColumn the completion column, or null for text rows
 * @param partitionBy      the key column (one adapter per value), or null with {@code shards}
 * @param shards           the number of random shards (one adapter each), or 0 with {@code partitionBy}
 * @param seed             the seed of the shards (and of everything else in training)
 * @param skipMalformed    count and drop malformed JSONL lines instead of failing
 */
public record DataOptions(String path, String format, String textColumn, String promptColumn, String completionColumn,
                          String partitionBy, int shards, long seed, boolean skipMalformed) implements Serializable {
    public static final String JSONL = "jsonl";
    public static final String PARQUET = "parquet";
    public static final String CSV = "csv";
    public static final String TEXT = "text";

    public DataOptions {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("Invalid --data " + path + ": give a file or directory");
        }
        format = format == null ? formatOf(path) : format.toLowerCase(Locale.ROOT);
        if (!(format.equals(JSONL) || format.equals(PARQUET) || format.equals(CSV) || format.equals(TEXT))) {
            throw new IllegalArgumentException("Invalid --format " + format + ": must be jsonl, parquet, csv or text");
        }
        if ((promptColumn == null) != (completionColumn == null)) {
            throw new IllegalArgumentException("Invalid --prompt-column " + promptColumn + " and --completion-column "
                    + completionColumn + ": give both or neither");
        }
        if ((partitionBy == null) == (shards <= 0)) {
            throw new IllegalArgumentException("Invalid --partition-by " + partitionBy + " and --shards " + shards
                    + ": give exactly one of them");
        }
        if (shards < 0) {
            throw new IllegalArgumentException("Invalid --shards " + shards + ": must be >= 1");
        }
        if (textColumn == null) {
            textColumn = format.equals(TEXT) ? "value" : "text";
        }
    }

    /** The format a path's extension implies; JSON lines otherwise. */
    static String formatOf(String path) {
        String p = path.toLowerCase(Locale.ROOT);
        return p.endsWith(".parquet") ? PARQUET : p.endsWith(".csv") ? CSV : p.endsWith(".txt") ? TEXT : JSONL;
    }

    public boolean promptCompletion() {
        return promptColumn != null;
    }
}
