package io.sparklora.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Content hashes recorded as provenance (which base model an adapter was trained on). */
public final class Hashing {
    private Hashing() {
    }

    /**
     * SHA-256, lowercase hex, of a file's bytes; for a directory, of every regular file below it in sorted order of
     * '/'-separated relative name, each contributing its name, a 0 byte, its length (8 bytes big-endian) and its bytes
     * — so renaming, moving or editing any file changes the hash, and the result does not depend on the platform.
     */
    public static String sha256(Path fileOrDir) throws IOException {
        if (!Files.isDirectory(fileOrDir)) {
            MessageDigest md = newSha256();
            try (InputStream in = Files.newInputStream(fileOrDir)) {
                digest(md, in);
            }
            return HexFormat.of().formatHex(md.digest());
        }
        List<NamedFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(fileOrDir)) {
            for (Path f : walk.filter(Files::isRegularFile).collect(Collectors.toList())) {
                long size = Files.size(f);
                files.add(new NamedFile(relativeName(fileOrDir, f), size, () -> Files.newInputStream(f)));
            }
        }
        return sha256(files);
    }

    /** Opens one file's bytes. */
    @FunctionalInterface
    public interface Opener {
        InputStream open() throws IOException;
    }

    /**
     * A file of a directory listed elsewhere (a Hadoop file system): its '/'-separated name relative to the directory,
     * its length, and how to read it.
     */
    public record NamedFile(String name, long size, Opener opener) {
    }

    /** The directory hash of {@link #sha256(Path)} over files listed by the caller (in any order). */
    public static String sha256(List<NamedFile> files) throws IOException {
        List<NamedFile> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(NamedFile::name));
        MessageDigest md = newSha256();
        for (NamedFile f : sorted) {
            md.update(f.name().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(ByteBuffer.allocate(8).putLong(0, f.size()).array());
            try (InputStream in = f.opener().open()) {
                digest(md, in);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String relativeName(Path root, Path file) {
        StringBuilder sb = new StringBuilder();
        for (Path part : root.relativize(file)) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    /** SHA-256 of {@code bytes}, lowercase hex. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    private static void digest(MessageDigest md, InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
        }
    }

    /** A fresh SHA-256 digest, for callers that hash while they read or write. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
