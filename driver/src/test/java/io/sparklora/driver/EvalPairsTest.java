package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which (adapter, partition) pairs eval scores: all × all for a few hundred adapters, own + a sample beyond. */
class EvalPairsTest {
    static List<String> keys(int n) {
        List<String> k = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            k.add("k" + i);
        }
        return k;
    }

    static List<AdapterPlan> partitions(List<String> keys) {
        List<AdapterPlan> p = new ArrayList<>();
        for (String k : keys) {
            p.add(new AdapterPlan(k, k, p.size(), 1, 2, "d"));
        }
        return p;
    }

    @Test
    void autoIsAllUpToTheLimitAndSampledBeyond() {
        assertEquals(EvalPairs.Mode.ALL, EvalPairs.Mode.parse("auto", EvalPairs.ALL_UP_TO));
        assertEquals(EvalPairs.Mode.SAMPLED, EvalPairs.Mode.parse("auto", EvalPairs.ALL_UP_TO + 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EvalPairs.Mode.parse("every", 3));
        assertEquals("Invalid --pairs every: expected all, sampled or auto", e.getMessage());
    }

    @Test
    void allScoresEveryAdapterOnEveryPartition() {
        EvalPairs pairs = new EvalPairs(EvalPairs.Mode.ALL, keys(5), partitions(keys(3)), 2, 1);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, pairs.adaptersFor(2));
    }

    @Test
    void sampledScoresTheOwnAdapterAndDistinctOthersTheSameWayEveryTime() {
        List<String> adapters = keys(1000);
        List<String> data = new ArrayList<>(adapters.subList(0, 10));
        data.add("unseen"); // a partition no adapter was trained on
        EvalPairs pairs = new EvalPairs(EvalPairs.Mode.SAMPLED, adapters, partitions(data), 8, 42);
        for (int p = 0; p < 10; p++) {
            int[] scored = pairs.adaptersFor(p);
            assertEquals(9, scored.length);
            assertEquals(9, Arrays.stream(scored).distinct().count());
            final int own = p;
            assertTrue(Arrays.stream(scored).anyMatch(a -> a == own), "partition " + p + " lacks its own adapter");
            assertArrayEquals(scored, new EvalPairs(EvalPairs.Mode.SAMPLED, adapters, partitions(data), 8, 42)
                    .adaptersFor(p));
        }
        assertEquals(-1, pairs.own(10));
        assertEquals(8, pairs.adaptersFor(10).length);
        assertEquals(3, new EvalPairs(EvalPairs.Mode.SAMPLED, keys(3), partitions(keys(3)), 8, 1).adaptersFor(0)
                .length, "a sample larger than the adapters takes them all");
    }
}
