package io.sparklora.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopByteSourceTest {
    @Test
    void positionedReadsIntoHeapAndDirectBuffersAndBoundsChecked(@TempDir Path dir) throws IOException {
        byte[] content = new byte[3_000_000]; // larger than one 1 MiB chunk of the direct-buffer path
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + 7);
        }
        Path file = dir.resolve("blob.bin");
        Files.write(file, content);
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(file.toUri());
        try (HadoopByteSource src = HadoopByteSource.open(FileSystem.get(p.toUri(), new Configuration()), p)) {
            assertEquals(content.length, src.size());
            ByteBuffer heap = ByteBuffer.allocate(10);
            heap.position(2);
            src.readFully(100, heap);
            assertEquals(10, heap.position());
            byte[] want = new byte[8];
            System.arraycopy(content, 100, want, 0, 8);
            byte[] got = new byte[8];
            heap.get(2, got);
            assertArrayEquals(want, got);

            ByteBuffer direct = ByteBuffer.allocateDirect(content.length - 5);
            src.readFully(5, direct);
            byte[] all = new byte[content.length - 5];
            direct.get(0, all);
            byte[] expected = new byte[content.length - 5];
            System.arraycopy(content, 5, expected, 0, expected.length);
            assertArrayEquals(expected, all);

            EOFException e = assertThrows(EOFException.class,
                    () -> src.readFully(content.length - 2, ByteBuffer.allocate(4)));
            assertEquals("Cannot read " + p + ": bytes 2999998..3000002 lie outside the file of 3000000 bytes",
                    e.getMessage());
        }
    }
}
