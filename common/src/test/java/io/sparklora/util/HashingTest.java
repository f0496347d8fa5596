package io.sparklora.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashingTest {
    @TempDir
    Path tmp;

    @Test
    void fileHashIsPlainSha256() throws IOException {
        Path f = Files.writeString(tmp.resolve("abc"), "abc");
        // FIPS 180-2 test vector for "abc"
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Hashing.sha256(f));
    }

    @Test
    void directoryHashCoversNamesAndContentsInSortedOrder() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Files.writeString(a.resolve("config.json"), "{}");
        Files.createDirectories(a.resolve("sub"));
        Files.writeString(a.resolve("sub").resolve("x.bin"), "xyz");
        Files.writeString(a.resolve("b.txt"), "b");
        // the documented layout: name, 0, 8-byte big-endian length, bytes; sorted by relative name
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String[] f : new String[][] {{"b.txt", "b"}, {"config.json", "{}"}, {"sub/x.bin", "xyz"}}) {
            md.update(f[0].getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(ByteBuffer.allocate(8).putLong(f[1].length()).array());
            md.update(f[1].getBytes(StandardCharsets.UTF_8));
        }
        String expected = HexFormat.of().formatHex(md.digest());
        assertEquals(expected, Hashing.sha256(a));

        // same files created in another order: same hash
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.createDirectories(b.resolve("sub"));
        Files.writeString(b.resolve("sub").resolve("x.bin"), "xyz");
        Files.writeString(b.resolve("b.txt"), "b");
        Files.writeString(b.resolve("config.json"), "{}");
        assertEquals(expected, Hashing.sha256(b));

        // renaming or editing a file changes it
        Files.move(b.resolve("b.txt"), b.resolve("c.txt"));
        String renamed = Hashing.sha256(b);
        assertNotEquals(expected, renamed);
        Files.writeString(b.resolve("c.txt"), "B");
        assertNotEquals(renamed, Hashing.sha256(b));
    }

    @Test
    void boundaryBetweenNameAndContentMatters() throws IOException, NoSuchAlgorithmException {
        Path x = Files.createDirectories(tmp.resolve("x"));
        Path y = Files.createDirectories(tmp.resolve("y"));
        Files.writeString(x.resolve("ab"), "c");
        Files.writeString(y.resolve("a"), "bc");
        assertNotEquals(Hashing.sha256(x), Hashing.sha256(y));
    }
}
