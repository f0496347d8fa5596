package io.sparklora.driver;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Which Spark task of the training stage trains which adapters. A task costs its launch, its shuffle fetch and its
 * result on top of the adapter's own work, which for thousands of tiny adapters is most of the job; so adapters are
 * packed into bins by size and each task trains its bin's adapters one after another over the executor's one base,
 * their rows arriving sorted by adapter and content. Longest first onto the least loaded bin (LPT scheduling, Graham
 * 1969): an adapter as large as a bin's share gets a task of its own, small ones share one. There are
 * {@code max(2 · parallelism, ⌈adapters / }{@value #TARGET_PER_BIN}{@code ⌉)} bins, at most one per adapter, so a
 * job of a few adapters still runs one task per adapter and a large one keeps every core busy with bins of tens.
 * A retried task skips the adapters of its bin that an earlier attempt already committed.
 *
 * <p>With {@code --adapters-per-task K > 1} a bin's adapters train in fused groups of up to K consecutive ones
 * ({@link AdapterTask#trainBin}), and a fused step costs about the same for every member whatever its row count;
 * so there are {@code min(⌈n / K⌉, max(2 · parallelism, ⌈n / 64⌉))} bins, each filled to at most
 * {@code ⌈n / bins⌉} adapters (the LPT order still balances their rows), which keeps enough tasks for the cores and
 * bins whose sizes are multiples of K where n allows.
 */
final class AdapterBins implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Adapters per bin the packing aims at when there are many: enough to amortise a task, few enough to retry. */
    static final int TARGET_PER_BIN = 64;
    private final int[] binOf; // adapter index → bin (= partition)
    private final int bins;

    private AdapterBins(int[] binOf, int bins) {
        this.binOf = binOf;
        this.bins = bins;
    }

    /** Packs {@code plans} (indexed 0…n-1 by {@link AdapterPlan#index}) by row count for {@code parallelism} cores. */
    static AdapterBins pack(List<AdapterPlan> plans, int parallelism) {
        return pack(plans, parallelism, 1);
    }

    /** {@link #pack(List, int)} for tasks that train up to {@code adaptersPerTask} adapters fused. */
    static AdapterBins pack(List<AdapterPlan> plans, int parallelism, int adaptersPerTask) {
        int n = plans.size();
        if (n == 0) {
            throw new IllegalArgumentException("Cannot pack adapters into tasks: there are none");
        }
        if (adaptersPerTask < 1) {
            throw new IllegalArgumentException("Invalid --adapters-per-task " + adaptersPerTask
                    + ": must be at least 1");
        }
        int spread = Math.max(2 * Math.max(1, parallelism), (n + TARGET_PER_BIN - 1) / TARGET_PER_BIN);
        int bins = Math.min(adaptersPerTask == 1 ? n : (n + adaptersPerTask - 1) / adaptersPerTask, spread);
        int capacity = adaptersPerTask == 1 ? n : (n + bins - 1) / bins; // adapters a bin may hold
        List<AdapterPlan> bySize = new ArrayList<>(plans);
        bySize.sort(Comparator.comparingLong(AdapterPlan::rows).reversed().thenComparingInt(AdapterPlan::index));
        PriorityQueue<long[]> load = new PriorityQueue<>(Comparator.<long[]>comparingLong(b -> b[0])
                .thenComparingLong(b -> b[1])); // {rows, bin, adapters}
        for (int b = 0; b < bins; b++) {
            load.add(new long[] {0, b, 0});
        }
        int[] binOf = new int[n];
        for (AdapterPlan p : bySize) {
            long[] lightest = load.poll();
            binOf[p.index()] = (int) lightest[1];
            lightest[0] += Math.max(1, p.rows());
            lightest[2]++;
            if (lightest[2] < capacity) { // a full bin takes no more
                load.add(lightest);
            }
        }
        return new AdapterBins(binOf, bins);
    }

    /**
     * Bins as given: {@code binOf[i]} is the bin of index i (a tree level's (node, key) slots to their node's task,
     * {@link SparkTreeJob}); every bin in {@code [0, bins)} gets a task, even one without an index.
     */
    static AdapterBins assigned(int[] binOf, int bins) {
        for (int b : binOf) {
            if (b < 0 || b >= bins) {
                throw new IllegalArgumentException("Cannot assign an adapter to bin " + b + " of " + bins);
            }
        }
        return new AdapterBins(binOf.clone(), bins);
    }

    /** One task per adapter: bin i holds adapter i ({@code train --full}, whose tasks each copy the whole base). */
    static AdapterBins onePerTask(int adapters) {
        return assigned(java.util.stream.IntStream.range(0, adapters).toArray(), adapters);
    }

    /**
     * The training stage of {@code train}, {@code --rank auto} and {@code sweep} (each point its own stage): the
     * adapters packed into bins ({@link #pack}), each task training its bin ({@link AdapterTask#trainBin}, a fused
     * group's rows held together); the outcomes, one per adapter.
     */
    static JavaRDD<AdapterOutcome> train(TrainData.Read data, List<AdapterPlan> plans, AdapterTask task,
                                         int parallelism, int adaptersPerTask) {
        return stage(SparkTrainJob.keyedRows(data, plans), pack(plans, parallelism, adaptersPerTask),
                plans.size() + " adapter(s)", (bin, adapters, rows) -> task.trainBin(adapters, rows, adaptersPerTask));
    }

    /** What a task of a {@link #stage} does with its bin, the bin's indices and their rows (by index, then content). */
    interface BinTask extends Serializable {
        Iterator<AdapterOutcome> train(int bin, int[] indices, Iterator<Tuple2<Integer, TrainRow>> rows)
                throws IOException;
    }

    /**
     * Every stage that trains: the rows (keyed by adapter, model or slot index) shuffled to their index's bin and
     * sorted by index, then by content ({@link TrainRow#ORDER}: the order the packer needs), by Spark's external sort,
     * which spills to the executor's disk; so a task reads each index's rows already in packing order and streams them
     * ({@link KeyWindows}), never collecting them in its heap. {@code what} names the rows in the Spark UI.
     */
    static JavaRDD<AdapterOutcome> stage(JavaPairRDD<Integer, TrainRow> keyed, AdapterBins bins, String what,
                                         BinTask task) {
        return sorted(keyed, bins, what)
                .mapPartitionsWithIndex((bin, rows) -> task.train(bin, bins.adaptersOf(bin), keys(rows)), false);
    }

    /**
     * The shuffle of {@link #stage}: the rows keyed by index moved to their index's bin and sorted by index, then
     * content, by Spark's external sort; the pairs are the sort keys ({@link #keys} gives them back). Also the
     * shuffle of the stages that read what training packed, {@code eval} and the router's fit, one bin per index
     * ({@link #onePerTask}), so their tasks stream a key's rows into {@link KeyWindows} as training does.
     */
    static JavaPairRDD<Tuple2<Integer, TrainRow>, Object> sorted(JavaPairRDD<Integer, TrainRow> keyed,
                                                                 AdapterBins bins, String what) {
        return keyed.mapToPair(r -> new Tuple2<>(r, (Object) null))
                .repartitionAndSortWithinPartitions(bins.partitioner(), new ContentOrder())
                .setName("spark-lora: rows of " + what + " in " + bins.bins() + " task(s)");
    }

    /** The sort keys of the shuffled pairs of {@link #sorted}, which are the (index, row) pairs themselves. */
    static Iterator<Tuple2<Integer, TrainRow>> keys(Iterator<Tuple2<Tuple2<Integer, TrainRow>, Object>> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Tuple2<Integer, TrainRow> next() {
                return rows.next()._1();
            }
        };
    }

    /** Adapter index, then {@link TrainRow#ORDER}: the order rows reach a training task in. */
    static final class ContentOrder implements Comparator<Tuple2<Integer, TrainRow>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Integer, TrainRow> a, Tuple2<Integer, TrainRow> b) {
            int c = Integer.compare(a._1(), b._1());
            return c != 0 ? c : TrainRow.ORDER.compare(a._2(), b._2());
        }
    }

    int bins() {
        return bins;
    }

    int binOf(int adapter) {
        return binOf[adapter];
    }

    /** The adapters of a bin, in index order (the order their rows arrive in). */
    int[] adaptersOf(int bin) {
        return java.util.stream.IntStream.range(0, binOf.length).filter(i -> binOf[i] == bin).toArray();
    }

    /** Splits a bin's rows, sorted by adapter index, into each adapter's rows in turn (streamed, not collected). */
    static final class Rows<T> {
        private final Iterator<Tuple2<Integer, T>> rows;
        private Tuple2<Integer, T> next;

        Rows(Iterator<Tuple2<Integer, T>> rows) {
            this.rows = rows;
            this.next = rows.hasNext() ? rows.next() : null;
        }

        /** The rows of {@code adapter}; consume them before asking for the next adapter's. */
        Iterator<T> of(int adapter) {
            while (next != null && next._1() < adapter) { // rows of an adapter skipped by the caller
                next = rows.hasNext() ? rows.next() : null;
            }
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return next != null && next._1() == adapter;
                }

                @Override
                public T next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    T value = next._2();
                    next = rows.hasNext() ? rows.next() : null;
                    return value;
                }
            };
        }
    }

    /** Partition = bin of the adapter index key. */
    Partitioner partitioner() {
        return new BinPartitioner(this);
    }

    private static final class BinPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final AdapterBins bins;

        BinPartitioner(AdapterBins bins) {
            this.bins = bins;
        }

        @Override
        public int numPartitions() {
            return bins.bins;
        }

        @Override
        public int getPartition(Object key) { // an adapter index, or an (adapter index, row) pair
            return bins.binOf[key instanceof Tuple2<?, ?> t ? (Integer) t._1() : (Integer) key];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BinPartitioner b && Arrays.equals(b.bins.binOf, bins.binOf);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bins.binOf);
        }
    }
}
