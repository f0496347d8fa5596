package io.sparklora.driver;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.sparklora.output.ManifestFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Plans one adapter per key from one Spark aggregation over the rows: per key the row count, the usable rows (text of
 * at least two tokens, or prompt + non-empty completion), their tokens, and the order-independent digest of all rows
 * ({@link DataDigest}). Keys that cannot give one training window after the held-out split are skipped here, with
 * their reason, so no task is spent on them and the other keys train.
 */
final class TrainPlanner {
    private TrainPlanner() {
    }

    /**
     * The adapters to train, in key order, the keys that get none, and the largest planned keys (at most
     * {@value #LARGEST}, largest first): what decides a task's memory and whether a key spills.
     */
    record Plan(List<AdapterPlan> adapters, List<ManifestFile.Skipped> skipped, List<KeySize> largest) {
    }

    /** How many of the largest keys the plan reports. */
    static final int LARGEST = 5;

    /** A planned key's size: its rows and the tokens of its usable rows. */
    record KeySize(String key, String adapter, long rows, long tokens) {
        @Override
        public String toString() {
            return key + " (" + rows + " rows, " + tokens + " tokens)";
        }
    }

    /** How the trainer cuts a key's tokens into windows (what decides whether a key is large enough). */
    record Windowing(int seqLen, double heldOutFraction) {
        /** Why {@code tokens} usable tokens give no training window, or null when they give one. */
        String tooSmall(long usableRows, long tokens) {
            long windows = (tokens + seqLen - 1) / seqLen;
            long held = heldOutFraction > 0 ? Math.max(1, Math.round(windows * heldOutFraction)) : 0;
            if (windows - held >= 1) {
                return null;
            }
            return "too small: its " + usableRows + " usable row(s) hold " + tokens + " tokens, " + windows
                    + " window(s) of " + seqLen + "; holding out " + held + " (--held-out " + heldOutFraction
                    + ") leaves none to train on";
        }
    }

    /** Per key: {rows, usable rows, usable tokens, word sums…}. */
    private static final int ROWS = 0;
    private static final int USABLE = 1;
    private static final int TOKENS = 2;
    private static final int WORDS = 3;

    /** {@code data} must be {@link TrainData#tokenized}: the counts read its ids. */
    static Plan plan(TrainData.Read data, DataOptions o, Windowing windowing) {
        Map<String, long[]> byKey = countByKey(data);
        long total = byKey.values().stream().mapToLong(c -> c[ROWS]).sum();
        if (total == 0) {
            throw new IllegalArgumentException("Cannot train: the data " + o.path() + " has no rows");
        }
        List<String> candidates = new ArrayList<>();
        if (o.shards() > 0) {
            for (int i = 0; i < o.shards(); i++) {
                candidates.add(Integer.toString(i));
            }
        } else {
            candidates.addAll(byKey.keySet());
        }
        List<String> keys = new ArrayList<>();
        List<ManifestFile.Skipped> skipped = new ArrayList<>();
        boolean anyUsable = false;
        for (String k : candidates) {
            long[] c = byKey.get(k);
            String reason;
            if (c == null) {
                reason = "no rows";
            } else if (c[USABLE] == 0) {
                reason = "all " + c[ROWS] + " rows are shorter than 2 tokens";
            } else {
                anyUsable = true;
                reason = windowing.tooSmall(c[USABLE], c[TOKENS]);
            }
            if (reason == null) {
                keys.add(k);
            } else {
                skipped.add(new ManifestFile.Skipped(k, reason));
            }
        }
        if (!anyUsable) {
            throw new IllegalArgumentException("Cannot train: no key of " + o.path() + " has a row of at least 2 "
                    + "tokens (" + skipped.size() + " key(s), " + total + " rows)");
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("Cannot train: no key of " + o.path() + " has data for one training "
                    + "window of " + windowing.seqLen() + " tokens after holding out " + windowing.heldOutFraction()
                    + " (" + skipped.size() + " key(s) skipped; use a shorter --seq or --held-out 0)");
        }
        Map<String, String> names = o.shards() > 0 ? shardNames(keys, o.shards()) : AdapterNames.of(keys);
        List<AdapterPlan> plans = new ArrayList<>();
        List<KeySize> sizes = new ArrayList<>();
        for (String k : keys) {
            long[] c = byKey.get(k);
            sizes.add(new KeySize(k, names.get(k), c[ROWS], c[TOKENS]));
            long[] words = java.util.Arrays.copyOfRange(c, WORDS, WORDS + DataDigest.WORDS);
            plans.add(new AdapterPlan(names.get(k), k, plans.size(), c[ROWS], c[TOKENS], DataDigest.of(c[ROWS], words)));
        }
        sizes.sort(java.util.Comparator.comparingLong(KeySize::rows).thenComparingLong(KeySize::tokens).reversed()
                .thenComparing(KeySize::adapter));
        return new Plan(plans, skipped, List.copyOf(sizes.subList(0, Math.min(LARGEST, sizes.size()))));
    }

    /** One aggregation: original key (null for the null key) → {rows, usable rows, usable tokens, word sums…}. */
    private static Map<String, long[]> countByKey(TrainData.Read data) {
        // the row's digest words; its token count comes from the ids computed once (size -1 for null: unusable)
        UDF3<String, String, String, List<Long>> digest = (t, p, c) -> {
            List<Long> out = new ArrayList<>();
            for (long w : TrainRow.digestWords(t, p, c)) {
                out.add(w);
            }
            return out;
        };
        Column words = functions.udf(digest, DataTypes.createArrayType(DataTypes.LongType))
                .apply(col(TrainData.TEXT), col(TrainData.PROMPT), col(TrainData.COMPLETION));
        Column m = functions.concat(functions.array(functions.when(col(TrainData.TOKENS).isNull(), lit(-1L))
                .otherwise(functions.size(col(TrainData.TOKENS)).cast(DataTypes.LongType))), words);
        Column tokens = col("_m").getItem(0);
        List<Column> aggs = new ArrayList<>();
        aggs.add(sum(when(tokens.geq(0), 1L).otherwise(0L)).as("usable"));
        aggs.add(sum(when(tokens.geq(0), tokens).otherwise(0L)).as("tokens"));
        for (int i = 0; i < DataDigest.WORDS; i++) {
            aggs.add(sum(col("_m").getItem(i + 1)).as("w" + i));
        }
        List<Row> rows = data.rows().withColumn("_m", m).groupBy(col(TrainData.KEY))
                .agg(count(lit(1)).as("rows"), aggs.toArray(Column[]::new)).collectAsList();
        Map<String, long[]> byKey = new TreeMap<>(java.util.Comparator.nullsFirst(java.util.Comparator
                .naturalOrder()));
        for (Row row : rows) {
            String k = row.getString(0);
            long[] c = new long[WORDS + DataDigest.WORDS];
            for (int i = 0; i < c.length; i++) {
                c[i] = row.getLong(i + 1);
            }
            byKey.put(k.equals(TrainData.NULL_KEY) ? null : k, c);
        }
        return byKey;
    }

    private static Map<String, String> shardNames(List<String> keys, int shards) {
        int width = Integer.toString(shards - 1).length();
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : keys) {
            m.put(k, String.format("shard-%0" + width + "d", Integer.parseInt(k)));
        }
        return m;
    }
}
