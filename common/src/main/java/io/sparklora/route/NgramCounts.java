package io.sparklora.route;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * What {@link NgramRouter} learns of one class (one adapter's partition): how many examples it saw and how often each
 * feature bucket occurred in them. Filled where the class's rows are (one Spark task) and sent to the driver, which
 * builds the router from every class's counts.
 */
public final class NgramCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final int order;
    private final int buckets;
    private long examples;
    private long total; // sum of counts
    private final HashMap<Integer, Long> counts = new HashMap<>(); // bucket -> occurrences

    public NgramCounts(String name, int order, int buckets) {
        if (order < 1 || buckets < 1) {
            throw new IllegalArgumentException("Invalid n-gram order " + order + " or buckets " + buckets
                    + ": both must be >= 1");
        }
        this.name = name;
        this.order = order;
        this.buckets = buckets;
    }

    /** Counts the n-grams of {@code ids[from, to)} as one example of this class. */
    public void add(int[] ids, int from, int to) {
        examples++;
        for (Map.Entry<Integer, Integer> e : NgramFeatures.count(ids, from, to, order, buckets).entrySet()) {
            counts.merge(e.getKey(), (long) e.getValue(), Long::sum);
            total += e.getValue();
        }
    }

    /** Restores counts read from a file. */
    void put(int bucket, long count) {
        counts.merge(bucket, count, Long::sum);
        total += count;
    }

    void setExamples(long examples) {
        this.examples = examples;
    }

    public String name() {
        return name;
    }

    public int order() {
        return order;
    }

    public int buckets() {
        return buckets;
    }

    public long examples() {
        return examples;
    }

    long total() {
        return total;
    }

    Map<Integer, Long> counts() {
        return counts;
    }
}
