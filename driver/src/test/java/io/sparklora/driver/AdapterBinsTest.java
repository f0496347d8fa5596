package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** Packing adapters into the tasks of the training stage, and splitting a task's sorted rows by adapter. */
class AdapterBinsTest {
    static List<AdapterPlan> plans(long... rows) {
        List<AdapterPlan> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            out.add(new AdapterPlan("a" + i, "a" + i, i, rows[i], 2 * rows[i], "d" + i));
        }
        return out;
    }

    @Test
    void aFewAdaptersGetATaskEach() {
        AdapterBins bins = AdapterBins.pack(plans(100, 5, 7), 8);
        assertEquals(3, bins.bins());
        assertEquals(3, java.util.stream.IntStream.range(0, 3).map(bins::binOf).distinct().count());
    }

    @Test
    void thousandsOfSmallAdaptersShareTasksOfAboutTheTargetSize() {
        long[] rows = new long[2000];
        java.util.Arrays.fill(rows, 2);
        AdapterBins bins = AdapterBins.pack(plans(rows), 2);
        assertEquals(32, bins.bins()); // ⌈2000 / 64⌉
        int total = 0;
        for (int b = 0; b < bins.bins(); b++) {
            int n = bins.adaptersOf(b).length;
            assertTrue(n == 62 || n == 63, "bin " + b + " holds " + n);
            total += n;
        }
        assertEquals(2000, total);
    }

    @Test
    void aLargeAdapterRunsAloneAndLoadsStayWithinTheLptBound() {
        Random r = new Random(3);
        long[] rows = new long[300];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = 1 + r.nextInt(50);
        }
        rows[17] = 5000;
        AdapterBins bins = AdapterBins.pack(plans(rows), 2);
        int m = bins.bins();
        assertEquals(1, bins.adaptersOf(bins.binOf(17)).length, "the large adapter shares its task");
        long[] load = new long[m];
        long total = 0;
        long largest = 0;
        for (int i = 0; i < rows.length; i++) {
            load[bins.binOf(i)] += rows[i];
            total += rows[i];
            largest = Math.max(largest, rows[i]);
        }
        long lowerBound = Math.max(largest, (total + m - 1) / m); // no packing does better
        long makespan = java.util.Arrays.stream(load).max().getAsLong();
        assertTrue(makespan <= (4.0 / 3 - 1.0 / (3 * m)) * lowerBound + 1e-9, // Graham's bound for LPT
                "makespan " + makespan + " against lower bound " + lowerBound);
    }

    @Test
    void fusedTasksGetCeilNOverKBinsButStillEnoughTasksForTheCores() {
        long[] six = {40, 3, 9, 1, 25, 7}; // unequal sizes: bins still hold three each, not by rows
        AdapterBins bins = AdapterBins.pack(plans(six), 2, 3);
        assertEquals(2, bins.bins()); // min(⌈6 / 3⌉, max(2 · 2, ⌈6 / 64⌉))
        assertEquals(3, bins.adaptersOf(0).length);
        assertEquals(3, bins.adaptersOf(1).length);

        long[] rows = new long[2000];
        Random r = new Random(5);
        for (int i = 0; i < rows.length; i++) {
            rows[i] = 1 + r.nextInt(30);
        }
        assertEquals(32, AdapterBins.pack(plans(rows), 2, 4).bins()); // min(500, max(4, ⌈2000 / 64⌉))
        AdapterBins wide = AdapterBins.pack(plans(rows), 2, 100);
        assertEquals(20, wide.bins()); // min(⌈2000 / 100⌉, 32)
        for (int b = 0; b < wide.bins(); b++) {
            assertEquals(100, wide.adaptersOf(b).length, "bin " + b); // ⌈n / bins⌉ each: whole groups of K
        }
        assertEquals(8, AdapterBins.pack(plans(java.util.Arrays.copyOf(rows, 100)), 4, 4).bins()); // min(25, 8)
        assertEquals(AdapterBins.pack(plans(rows), 2).bins(), AdapterBins.pack(plans(rows), 2, 1).bins());
    }

    @Test
    void rowsSortedByAdapterSplitPerAdapterAndUnreadRowsAreSkipped() {
        List<Tuple2<Integer, String>> sorted = List.of(new Tuple2<>(1, "a"), new Tuple2<>(1, "b"),
                new Tuple2<>(4, "c"), new Tuple2<>(7, "d"), new Tuple2<>(7, "e"));
        AdapterBins.Rows<String> rows = new AdapterBins.Rows<>(sorted.iterator());
        assertArrayEquals(new String[] {"a", "b"}, drain(rows.of(1)));
        rows.of(4); // not read: an adapter already committed
        assertArrayEquals(new String[0], drain(rows.of(5)));
        assertArrayEquals(new String[] {"d", "e"}, drain(rows.of(7)));
        assertArrayEquals(new String[0], drain(rows.of(9)));
    }

    private static String[] drain(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out.toArray(String[]::new);
    }
}
