package io.sparklora.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteSourceTest {
    @TempDir
    Path tmp;

    private static byte[] read(ByteSource s, long position, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        s.readFully(position, b);
        return b.array();
    }

    @Test
    void localFileAndByteArrayReadTheSameRanges() throws IOException {
        byte[] bytes = new byte[1000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Path f = Files.write(tmp.resolve("data.bin"), bytes);
        try (ByteSource file = LocalFileSource.open(f); ByteSource mem = new ByteArraySource("mem", bytes)) {
            assertEquals(1000, file.size());
            assertEquals(1000, mem.size());
            assertEquals(f.toString(), file.name());
            for (int[] range : new int[][] {{0, 8}, {997, 3}, {123, 456}, {1000, 0}}) {
                byte[] expected = java.util.Arrays.copyOfRange(bytes, range[0], range[0] + range[1]);
                assertArrayEquals(expected, read(file, range[0], range[1]));
                assertArrayEquals(expected, read(mem, range[0], range[1]));
            }
            EOFException e = assertThrows(EOFException.class, () -> read(file, 995, 10));
            assertEquals("Cannot read " + f + ": end of file at byte 1000, 5 more bytes wanted", e.getMessage());
            e = assertThrows(EOFException.class, () -> read(mem, 995, 10));
            assertEquals("Cannot read mem: bytes 995..1005 lie outside its 1000 bytes", e.getMessage());
        }
    }
}
