package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.sparklora.model.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class BatchStreamTest {
    /** Window i holds the tokens (i, i) so a batch tells which windows it took. */
    private static List<Window> windows(int n) {
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Window(new int[] {i, i}, new int[] {i, Batch.IGNORE}));
        }
        return out;
    }

    private static List<Integer> take(BatchStream s, int batches) {
        List<Integer> ids = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            Batch batch = s.next();
            for (int r = 0; r < batch.batchSize(); r++) {
                ids.add(batch.inputs()[r * 2]);
            }
        }
        return ids;
    }

    @Test
    void everyEpochVisitsEveryWindowOnceInAFreshSeededOrder() {
        BatchStream s = new BatchStream(windows(12), 4, 9);
        List<Integer> epoch0 = take(s, 3);
        List<Integer> epoch1 = take(s, 3);
        assertEquals(12, new TreeSet<>(epoch0).size());
        assertEquals(12, new TreeSet<>(epoch1).size());
        assertNotEquals(epoch0, epoch1);
        assertEquals(epoch0, take(new BatchStream(windows(12), 4, 9), 3));
        assertNotEquals(epoch0, take(new BatchStream(windows(12), 4, 10), 3));
    }

    @Test
    void aRestoredPositionContinuesTheSameSequenceAcrossEpochs() {
        BatchStream a = new BatchStream(windows(10), 3, 1);
        take(a, 5); // 15 windows: into the second epoch
        BatchStream.Position p = a.position();
        assertEquals(1, p.epoch());
        assertEquals(5, p.cursor());
        List<Integer> next = take(a, 7);
        BatchStream b = new BatchStream(windows(10), 3, 1);
        b.restore(p);
        assertEquals(next, take(b, 7));
    }

    @Test
    void batchesAreRowMajorWindows() {
        Batch batch = new BatchStream(windows(1), 2, 0).next();
        assertArrayEquals(new int[] {0, 0, 0, 0}, batch.inputs());
        assertArrayEquals(new int[] {0, Batch.IGNORE, 0, Batch.IGNORE}, batch.targets());
    }
}
