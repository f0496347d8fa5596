package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.job.PackedData;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.Window;
import io.sparklora.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link KeyWindows} outside Spark: when a key spills (rows or heap bytes), and that streamed packing, in the heap or
 * into a spill file, gives the windows and split of {@link AdapterTask#pack} (the collecting reference) and leaves no
 * file behind.
 */
class KeyWindowsTest {
    private static final TrainSpec SPEC = TrainSpec.lora("a", LoraConfig.defaults()).seqLen(16).heldOutFraction(0.2)
            .seed(3).build();

    private static TrainJobSpec job(long spillRows) {
        return new TrainJobSpec(SPEC, List.of(), "file:///nowhere", "file:///model", "sha", TokenizerSpec.bytes(), 10,
                TestHooks.NONE, List.of("v", "s", "j"), spillRows);
    }

    private static AdapterPlan plan(long rows, long tokens) {
        return new AdapterPlan("a", "a", 0, rows, tokens, "d");
    }

    @Test
    void aKeySpillsOverTheRowThresholdOrOverItsShareOfTheHeap() {
        assertEquals(8 * 100 + 64 * 7, KeyWindows.windowBytes(100, 16)); // 100 tokens fill 7 windows of 16
        assertEquals(8 * 32 + 64 * 2, KeyWindows.windowBytes(32, 16));
        long budget = KeyWindows.windowBytes(1_000, 16);
        assertFalse(KeyWindows.spills(job(10), plan(10, 1_000), budget), "at both bounds: in the heap");
        assertTrue(KeyWindows.spills(job(10), plan(11, 1_000), budget), "one row over --spill-rows");
        assertTrue(KeyWindows.spills(job(10), plan(2, 1_001), budget), "few rows, but long: over the heap share");
        assertTrue(KeyWindows.heapBudget() > 0 && KeyWindows.heapBudget() <= Runtime.getRuntime().maxMemory() / 8);
    }

    private static List<TrainRow> rows() {
        List<TrainRow> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(i % 4 == 0 ? new TrainRow(null, "Q" + i + ": ", "answer " + i * 7)
                    : new TrainRow("row " + i + " " + "x".repeat(i % 23), null, null));
        }
        rows.add(new TrainRow("", null, null)); // too short: counted, not packed
        rows.sort(TrainRow.ORDER); // as the stage's sort delivers them
        return rows;
    }

    private static void assertSame(PackedData expected, PackedData actual) {
        for (List<List<Window>> pair : List.of(List.of(expected.train(), actual.train()),
                List.of(expected.heldOut(), actual.heldOut()))) {
            assertEquals(pair.get(0).size(), pair.get(1).size());
            for (int i = 0; i < pair.get(0).size(); i++) {
                assertArrayEquals(pair.get(0).get(i).inputs(), pair.get(1).get(i).inputs(), "window " + i);
                assertArrayEquals(pair.get(0).get(i).targets(), pair.get(1).get(i).targets(), "window " + i);
            }
        }
        assertEquals(expected.rows(), actual.rows());
        assertEquals(expected.tokens(), actual.tokens());
        assertEquals(expected.targetTokens(), actual.targetTokens());
    }

    private static List<Path> spillFiles() throws IOException {
        try (Stream<Path> f = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return f.filter(p -> p.getFileName().toString().startsWith(KeyWindows.SPILL_PREFIX)).toList();
        }
    }

    @Test
    void streamedWindowsInTheHeapOrASpillFileAreTheCollectedOnes() throws IOException {
        List<TrainRow> rows = rows();
        AdapterTask.Packed reference = AdapterTask.pack(TokenizerSpec.bytes().get(), SPEC, rows.iterator());
        assertEquals(1, reference.tooShort());
        assertTrue(reference.data().heldOut().size() >= 2, "the split is exercised");
        List<Path> before = spillFiles();
        for (long spillRows : new long[] {1_000, 5}) {
            try (KeyWindows w = KeyWindows.pack(job(spillRows), SPEC, "adapter a", plan(rows.size(), 400),
                    rows.iterator())) {
                assertEquals(spillRows == 5 ? KeyWindows.SPILL_FILE : KeyWindows.MEMORY, w.windowsIn());
                assertSame(reference.data(), w.data());
                assertEquals(reference.tooShort(), w.packed().tooShort());
            }
        }
        assertEquals(before, spillFiles(), "a spill file was left behind");

        // a tree node: two keys, each packed and split alone, joined (spilled and in memory side by side)
        List<TrainRow> first = rows.subList(0, 20);
        List<TrainRow> second = rows.subList(20, rows.size());
        AdapterTask.Packed r1 = AdapterTask.pack(TokenizerSpec.bytes().get(), SPEC, first.iterator());
        AdapterTask.Packed r2 = AdapterTask.pack(TokenizerSpec.bytes().get(), SPEC, second.iterator());
        List<Window> train = new ArrayList<>(r1.data().train());
        train.addAll(r2.data().train());
        List<Window> heldOut = new ArrayList<>(r1.data().heldOut());
        heldOut.addAll(r2.data().heldOut());
        try (KeyWindows joined = KeyWindows.join(List.of(
                KeyWindows.pack(job(5), SPEC, "node n (key 1 of 2)", plan(20, 200), first.iterator()),
                KeyWindows.pack(job(1_000), SPEC, "node n (key 2 of 2)", plan(21, 200), second.iterator())))) {
            assertEquals(KeyWindows.SPILL_FILE, joined.windowsIn());
            assertSame(new PackedData(train, heldOut, r1.data().rows() + r2.data().rows(),
                    r1.data().tokens() + r2.data().tokens(), r1.data().targetTokens() + r2.data().targetTokens()),
                    joined.data());
            assertEquals(r1.tooShort() + r2.tooShort(), joined.packed().tooShort());
        }
        assertEquals(before, spillFiles(), "a spill file was left behind");
    }

    @Test
    void rowsOutOfContentOrderFailTheAttemptNamingTheKey() {
        List<TrainRow> rows = new ArrayList<>(rows());
        java.util.Collections.reverse(rows);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> KeyWindows.pack(job(1_000), SPEC, "model m", plan(rows.size(), 400), rows.iterator()));
        assertEquals("Cannot stream the rows of model m: they arrived out of content order", e.getMessage());
    }
}
