package io.sparklora.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.util.Hashing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HadoopStorage} on the Hadoop local file system ({@code file://}), checked against the disk with java.nio. */
class HadoopStorageTest {
    @TempDir
    java.nio.file.Path tmp;
    FileSystem fs;

    @BeforeEach
    void local() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
    }

    private Path hadoop(java.nio.file.Path p) {
        return new Path(p.toUri());
    }

    private static List<String> names(java.nio.file.Path dir) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aWriterThatThrowsMidwayLeavesTheOldFileAndNoTemporary() throws IOException {
        java.nio.file.Path f = tmp.resolve("manifest.json");
        HadoopStorage.writeFile(fs, hadoop(f), utf8("old"));
        IOException e = assertThrows(IOException.class, () -> HadoopStorage.writeFile(fs, hadoop(f), out -> {
            out.write(new byte[200_000]); // past the stream's buffer, so part of it reached the disk
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("manifest.json"), names(tmp));
    }

    @Test
    void aWriterThatThrowsMidwayOnANewFileLeavesNothing() throws IOException {
        java.nio.file.Path f = tmp.resolve("sub/state.json");
        assertThrows(IOException.class, () -> HadoopStorage.writeFile(fs, hadoop(f), out -> {
            out.write(utf8("{\"format_ver"));
            throw new IOException("killed");
        }));
        assertFalse(Files.exists(f));
        assertEquals(List.of(), names(tmp.resolve("sub")));
    }

    @Test
    void aWriteReplacesTheWholeFile() throws IOException {
        java.nio.file.Path f = tmp.resolve("training.json");
        HadoopStorage.writeFile(fs, hadoop(f), utf8("a much longer first content"));
        HadoopStorage.writeFile(fs, hadoop(f), utf8("short"));
        assertEquals("short", Files.readString(f));
        assertEquals(List.of("training.json"), names(tmp));
    }

    @Test
    void createNewFailsNamingTheFileWhenItExistsAndLeavesIt() throws IOException {
        java.nio.file.Path f = tmp.resolve("out/_lease.json");
        HadoopStorage.createNew(fs, hadoop(f), utf8("first"));
        assertEquals("first", Files.readString(f));
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> HadoopStorage.createNew(fs, hadoop(f), utf8("second")));
        assertEquals("Cannot create " + fs.makeQualified(hadoop(f)) + ": it exists", e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertEquals("first", Files.readString(f));
    }

    @Test
    void replaceDirectorySwapsTheContentsAndLeavesNoTemporaryDirectory() throws IOException {
        java.nio.file.Path parent = Files.createDirectories(tmp.resolve("adapters"));
        java.nio.file.Path target = Files.createDirectories(parent.resolve("en"));
        Files.writeString(target.resolve("old-a"), "a");
        Files.writeString(target.resolve("old-b"), "b");
        java.nio.file.Path from = Files.createDirectories(parent.resolve("_tmp-en-1"));
        Files.writeString(from.resolve("new"), "n");
        HadoopStorage.replaceDirectory(fs, hadoop(from), hadoop(target), hadoop(parent.resolve("_replaced-en-1")));
        assertEquals(List.of("en"), names(parent));
        assertEquals(List.of("new"), names(target));
        assertEquals("n", Files.readString(target.resolve("new")));
        // onto an absent target it is a plain rename
        java.nio.file.Path from2 = Files.createDirectories(parent.resolve("_tmp-fr-1"));
        Files.writeString(from2.resolve("x"), "x");
        HadoopStorage.replaceDirectory(fs, hadoop(from2), hadoop(parent.resolve("fr")),
                hadoop(parent.resolve("_replaced-fr-1")));
        assertEquals(List.of("en", "fr"), names(parent));
        assertEquals(List.of("x"), names(parent.resolve("fr")));
    }

    @Test
    void renameDirectoryRefusesAnExistingTargetAndMovesNothing() throws IOException {
        java.nio.file.Path from = Files.createDirectories(tmp.resolve("a"));
        Files.writeString(from.resolve("f"), "from");
        java.nio.file.Path to = Files.createDirectories(tmp.resolve("b")); // empty: rename(2) alone would replace it
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> HadoopStorage.renameDirectory(fs, hadoop(from), hadoop(to)));
        assertTrue(e.getMessage().contains(hadoop(to).toString()), e.getMessage());
        assertEquals(List.of("f"), names(from));
        assertEquals(List.of(), names(to));
    }

    @Test
    void recursiveDeleteRemovesOnlyTheNamedTree() throws IOException {
        java.nio.file.Path root = tmp.resolve("out");
        Files.createDirectories(root.resolve("adapters/en/sub"));
        Files.writeString(root.resolve("adapters/en/sub/w"), "w");
        Files.writeString(root.resolve("adapters/en/c"), "c");
        Files.createDirectories(root.resolve("adapters/en2"));
        Files.writeString(root.resolve("adapters/en2/keep"), "k");
        Files.writeString(root.resolve("adapters/en.txt"), "k");
        assertTrue(HadoopStorage.deleteRecursively(fs, hadoop(root.resolve("adapters/en"))));
        assertEquals(List.of("en.txt", "en2"), names(root.resolve("adapters")));
        assertEquals("k", Files.readString(root.resolve("adapters/en2/keep")));
        assertFalse(HadoopStorage.deleteRecursively(fs, hadoop(root.resolve("adapters/en"))));
    }

    @Test
    void objectStoresAreTheDocumentedSchemesOnly() throws IOException {
        for (String s : List.of("s3a", "s3", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss", "cos", "cosn", "obs",
                "S3A", "GS")) {
            assertTrue(HadoopStorage.isObjectStore(s), s);
        }
        for (String s : new String[] {"file", "hdfs", "viewfs", "webhdfs", "o3fs", "", null}) {
            assertFalse(HadoopStorage.isObjectStore(s), String.valueOf(s));
        }
        assertFalse(HadoopStorage.isObjectStore(fs));
        assertTrue(HadoopStorage.isLocal(fs));
        assertEquals(12, HadoopStorage.OBJECT_STORE_SCHEMES.size());
    }

    @Test
    void sha256IsTheKnownVectorAndHashingsDigestOfTheBytes() throws IOException {
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                HadoopStorage.sha256(utf8("abc")));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                HadoopStorage.sha256(new byte[0]));
        byte[] big = new byte[300_001]; // several of the streamed digest's buffers, and a partial last one
        new Random(7).nextBytes(big);
        java.nio.file.Path f = tmp.resolve("adapter_model.safetensors");
        HadoopStorage.writeFile(fs, hadoop(f), big);
        assertArrayEquals(big, Files.readAllBytes(f));
        assertEquals(Hashing.sha256(big), HadoopStorage.sha256(fs, hadoop(f)));
        assertEquals(Hashing.sha256(f), HadoopStorage.sha256(fs, hadoop(f)));
        assertEquals(Hashing.sha256(big), HadoopStorage.sha256(big));
    }
}
