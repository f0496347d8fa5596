package io.sparklora.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Local output directories that appear whole or not at all: the content is written into a hidden sibling directory
 * and renamed into place, so a failure never leaves a half-written model behind.
 */
final class OutputDirs {
    /** Writes the content of one directory. */
    @FunctionalInterface
    interface DirWriter {
        void write(Path dir) throws IOException;
    }

    private OutputDirs() {
    }

    /** Runs {@code writer} on a temporary sibling of {@code out}, then renames it to {@code out}. */
    static void writeAtomically(Path out, String what, DirWriter writer) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        if (Files.exists(target) && !isEmptyDirectory(target)) {
            throw new IOException("Cannot write " + what + " to " + out + ": it exists and is not an empty directory");
        }
        Path parent = target.getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IOException("Cannot write " + what + " to " + out + ": cannot create " + parent + " ("
                    + e.getMessage() + ")", e);
        }
        if (!Files.isWritable(parent)) {
            throw new IOException("Cannot write " + what + " to " + out + ": " + parent + " is not writable");
        }
        Path tmp = parent.resolve("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        Files.createDirectory(tmp);
        try {
            writer.write(tmp);
            if (Files.exists(target)) {
                Files.delete(target); // the empty directory checked above
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort: the temporary directory is hidden and named as such
        }
    }
}
