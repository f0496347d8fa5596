package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The atomic outputs of combine, extract, merge and init-model ({@link OutputDirs}, and {@link StoreOutputDirs} on a
 * {@code file://} URI): a writer that fails half-way leaves neither the output nor its temporary sibling; one that
 * finishes leaves exactly its files; an output that holds files is refused untouched.
 */
class OutputDirsTest {
    @TempDir
    Path tmp;

    @Test
    void aWriterThatFailsHalfWayLeavesNothing() throws IOException {
        Path out = tmp.resolve("runs/combined");
        IOException boom = new IOException("disk full");
        IOException e = assertThrows(IOException.class, () -> OutputDirs.writeAtomically(out, "combined adapter",
                dir -> {
                    Files.writeString(dir.resolve("adapter_model.safetensors"), "half of it");
                    throw boom;
                }));
        assertSame(boom, e);
        assertFalse(Files.exists(out));
        assertEquals(List.of(), names(tmp.resolve("runs")), "no temporary sibling left");
        RuntimeException r = assertThrows(RuntimeException.class, () -> StoreOutputDirs.writeAtomically(
                out.toUri().toString(), new Configuration(), "extracted adapter", dir -> {
                    Files.writeString(dir.resolve("adapter_config.json"), "{}");
                    throw new IllegalStateException("SVD did not converge");
                }));
        assertEquals("SVD did not converge", r.getMessage());
        assertEquals(List.of(), names(tmp.resolve("runs")));
    }

    @Test
    void aFinishedWriterLeavesItsFilesAndAnEmptyDirectoryIsReplaced() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        StoreOutputDirs.writeAtomically(out.toUri().toString(), new Configuration(), "combined adapter", dir -> {
            Files.writeString(dir.resolve("adapter_config.json"), "{}");
            Files.writeString(dir.resolve("adapter_model.safetensors"), "weights");
        });
        assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"), names(out));
        assertEquals(List.of("out"), names(tmp));
    }

    @Test
    void anOutputWithFilesIsRefusedUntouched() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        IOException e = assertThrows(IOException.class, () -> OutputDirs.writeAtomically(out, "merged model",
                dir -> Files.writeString(dir.resolve("config.json"), "{}")));
        assertEquals("Cannot write merged model to " + out + ": it exists and is not an empty directory",
                e.getMessage());
        assertEquals(List.of("keep.txt"), names(out));
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        assertEquals(List.of("out"), names(tmp));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
