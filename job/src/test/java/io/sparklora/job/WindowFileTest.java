package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.Batch;
import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.util.SplitMix64;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WindowFileTest {
    @TempDir
    Path dir;

    private static List<Window> randomWindows(int n, int seq, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        List<Window> out = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            int[] in = new int[seq];
            int[] tg = new int[seq];
            for (int i = 0; i < seq; i++) {
                in[i] = rng.nextInt(50_000);
                tg[i] = rng.nextInt(4) == 0 ? Batch.IGNORE : rng.nextInt(50_000);
            }
            out.add(new Window(in, tg));
        }
        return out;
    }

    private static void assertSameWindows(List<Window> expected, List<Window> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).inputs(), actual.get(i).inputs(), "inputs of window " + i);
            assertArrayEquals(expected.get(i).targets(), actual.get(i).targets(), "targets of window " + i);
        }
    }

    @Test
    void windowsWrittenAreTheWindowsRead() throws IOException {
        // more windows than the writer's 1 MiB buffer holds (8 KiB each), so flushes happen mid-file
        List<Window> written = randomWindows(300, 1024, 7);
        Path f = dir.resolve("w.bin");
        try (WindowFile.Writer w = WindowFile.create(f, 1024)) {
            for (Window x : written) {
                w.append(x);
            }
        }
        assertEquals(24 + 300L * 8 * 1024, Files.size(f));
        try (WindowFile r = WindowFile.open(f)) {
            assertEquals(300, r.count());
            assertEquals(1024, r.seqLen());
            List<Window> all = new ArrayList<>();
            for (int i = 0; i < r.count(); i++) {
                all.add(r.read(i));
            }
            assertSameWindows(written, all);
            assertSameWindows(List.of(written.get(299), written.get(0), written.get(5)),
                    r.view(new int[] {299, 0, 5}));
        }
    }

    @Test
    void theFileIsTheDocumentedLittleEndianLayout() throws IOException {
        Path f = dir.resolve("one.bin");
        try (WindowFile.Writer w = WindowFile.create(f, 2)) {
            w.append(new Window(new int[] {1, 258}, new int[] {258, Batch.IGNORE}));
        }
        ByteBuffer expected = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        expected.put("SLWINDOW".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(1).putInt(2).putLong(1)
                .putInt(1).putInt(258).putInt(258).putInt(-100);
        assertEquals(-100, Batch.IGNORE);
        assertArrayEquals(expected.array(), Files.readAllBytes(f));
    }

    @Test
    void aDamagedFileIsRefusedNamingIt() throws IOException {
        Path f = dir.resolve("d.bin");
        try (WindowFile.Writer w = WindowFile.create(f, 4)) {
            for (Window x : randomWindows(3, 4, 1)) {
                w.append(x);
            }
        }
        byte[] good = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(good, good.length - 4));
        IOException e = assertThrows(IOException.class, () -> WindowFile.open(f));
        assertEquals("Cannot read window file " + f + ": its header promises 3 windows of 4 tokens (120 bytes), "
                + "the file has 116", e.getMessage());
        byte[] bad = good.clone();
        bad[0] = 'X';
        Files.write(f, bad);
        e = assertThrows(IOException.class, () -> WindowFile.open(f));
        assertEquals("Cannot read window file " + f + ": it does not start with SLWINDOW", e.getMessage());
        Files.write(f, new byte[10]);
        e = assertThrows(IOException.class, () -> WindowFile.open(f));
        assertTrue(e.getMessage().contains("shorter than the 24-byte header"), e.getMessage());
    }

    @Test
    void spilledPackingGivesTheInMemoryWindowsAndSplit() throws IOException {
        ByteTokenizer tok = new ByteTokenizer();
        List<EncodedRow> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            rows.add(i % 3 == 0 ? EncodedRow.promptCompletion(tok, "Q" + i + ": ", "answer " + i * 7)
                    : EncodedRow.text(tok, "row " + i + " " + "x".repeat(i % 40)));
        }
        WindowPacker packer = new WindowPacker(tok, 16);
        PackedData memory = packer.packEncoded("a", rows.iterator(), 0.1, 11);
        Path f = dir.resolve("spill.bin");
        try (WindowPacker.SpilledWindows spilled = packer.packEncodedSpilled("a", rows.iterator(), 0.1, 11, f)) {
            PackedData d = spilled.data();
            assertTrue(memory.heldOut().size() > 1);
            assertSameWindows(memory.train(), d.train());
            assertSameWindows(memory.heldOut(), d.heldOut());
            assertEquals(memory.rows(), d.rows());
            assertEquals(memory.tokens(), d.tokens());
            assertEquals(memory.targetTokens(), d.targetTokens());
            assertEquals(memory.train().size() + memory.heldOut().size(), spilled.file().count());
        }
    }

    @Test
    void spilledPackingRefusesWhatThePackerRefuses() {
        WindowPacker packer = new WindowPacker(new ByteTokenizer(), 8);
        Path f = dir.resolve("refused.bin");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> packer.packEncodedSpilled("a",
                List.of(EncodedRow.text(new ByteTokenizer(), "abc")).iterator(), 0.1, 1, f));
        assertTrue(e.getMessage().contains("holding out 1 leaves none to train on"), e.getMessage());
    }

    @Test
    void joinedListsReadAsTheirConcatenationAndPackedDataKeepsThem() throws IOException {
        List<Window> first = randomWindows(5, 8, 1);
        List<Window> onDisk = randomWindows(7, 8, 2);
        Path f = dir.resolve("part.bin");
        try (WindowFile.Writer w = WindowFile.create(f, 8)) {
            for (Window x : onDisk) {
                w.append(x);
            }
        }
        try (WindowFile file = WindowFile.open(f)) {
            List<Window> view = file.view(new int[] {6, 0, 3});
            List<Window> joined = WindowFile.concat(List.of(List.of(), first, List.of(), view, randomWindows(1, 8, 3),
                    List.of()));
            List<Window> expected = new ArrayList<>(first); // the reference: the parts copied one after another
            expected.addAll(List.of(onDisk.get(6), onDisk.get(0), onDisk.get(3)));
            expected.addAll(randomWindows(1, 8, 3));
            assertSameWindows(expected, joined);
            assertThrows(IndexOutOfBoundsException.class, () -> joined.get(9));
            assertThrows(IndexOutOfBoundsException.class, () -> joined.get(-1));
            assertThrows(UnsupportedOperationException.class, () -> joined.add(first.get(0)));
            PackedData d = new PackedData(joined, WindowFile.concat(List.of()), 3, 4, 5);
            assertTrue(d.train() == joined, "PackedData copied a joined list (it would read spill files in)");
            assertEquals(0, d.heldOut().size());
        }
    }
}
