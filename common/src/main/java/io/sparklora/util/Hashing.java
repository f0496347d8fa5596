package io.sparklora.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
        MessageDigest md = newDigest();
        if (Files.isDirectory(fileOrDir)) {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(fileOrDir)) {
                files = walk.filter(Files::isRegularFile).collect(Collectors.toList());
            }
            files.sort((a, b) -> relativeName(fileOrDir, a).compareTo(relativeName(fileOrDir, b)));
            for (Path f : files) {
                md.update(relativeName(fileOrDir, f).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(ByteBuffer.allocate(8).putLong(0, Files.size(f)).array());
                digestFile(md, f);
            }
        } else {
            digestFile(md, fileOrDir);
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

    private static void digestFile(MessageDigest md, Path f) throws IOException {
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
