package io.sparklora.storage;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import io.sparklora.util.Hashing;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The one storage layer over the Hadoop {@link FileSystem} API ({@code file://}, {@code hdfs://}, {@code s3a://}, …):
 * which stores are object stores, atomic file writes, atomic directory commits, recursive deletes and SHA-256. The
 * job, the driver and the CLI's local commands all go through it, so the rules below hold in one place.
 *
 * <ul>
 *   <li><b>Object stores</b> ({@link #OBJECT_STORE_SCHEMES}) have no atomic rename (a rename is a copy, then a delete)
 *       and no atomic create-if-absent, but each single PUT is atomic and, on current S3, strongly consistent: a file
 *       is written by one PUT at its final name, and a directory is "committed" by writing its files at their final
 *       names and a completion marker last (the callers' markers; see {@code AdapterStore}).</li>
 *   <li><b>Rename stores</b> (local disks, HDFS, viewfs) get a file written into a temporary sibling renamed over the
 *       target, and a directory renamed into place with a rename that refuses an existing target
 *       ({@link #renameDirectory}); {@link #replaceDirectory} first moves an existing target aside, so a re-commit
 *       onto a directory that is already there replaces it instead of failing with "Directory not empty" (local
 *       rename(2)) or moving the new directory <em>inside</em> the old one (Hadoop's {@code FileSystem.rename}).</li>
 *   <li>On {@code file://} these use java.nio: Hadoop's local file system starts a {@code chmod} process per file it
 *       creates when its native library is absent, and its FileContext rename a {@code readlink} per path.</li>
 * </ul>
 */
public final class HadoopStorage {
    /**
     * URI schemes of object stores (lower case): S3, GCS, Alibaba OSS, Tencent COS, Huawei OBS, Azure ABFS/WASB. The
     * one list in spark-lora: every other scheme ({@code file}, {@code hdfs}, {@code viewfs}, …) is a rename store.
     */
    public static final Set<String> OBJECT_STORE_SCHEMES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn",
            "obs", "abfs", "abfss", "wasb", "wasbs");

    private HadoopStorage() {
    }

    /** True for the scheme of an object store (case-insensitive); false for file, hdfs, viewfs and the like. */
    public static boolean isObjectStore(String scheme) {
        return scheme != null && OBJECT_STORE_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT));
    }

    public static boolean isObjectStore(FileSystem fs) {
        return isObjectStore(fs.getUri().getScheme());
    }

    /** True for the local file system ({@code file://}), which this class drives with java.nio. */
    public static boolean isLocal(FileSystem fs) {
        return "file".equalsIgnoreCase(fs.getUri().getScheme());
    }

    /** The java.nio path of a {@code file://} Hadoop path. */
    public static java.nio.file.Path local(FileSystem fs, Path p) {
        return java.nio.file.Path.of(fs.makeQualified(p).toUri());
    }

    /**
     * Writes {@code bytes} to {@code file} so that readers see the old content or the whole new one, never a part:
     * one PUT on object stores, else a temporary sibling ({@code _<name>.tmp-<uuid>}) renamed over the target.
     */
    public static void writeFile(FileSystem fs, Path file, byte[] bytes) throws IOException {
        writeFile(fs, file, out -> out.write(bytes));
    }

    /**
     * Writes what {@code content} produces to {@code file} so that readers see the old content or the whole new one,
     * never a part, and a {@code content} that throws leaves the old file (or none) and no temporary behind. On rename
     * stores the bytes stream into a temporary sibling renamed over the target ({@link AtomicFiles#write} on a local
     * disk); on object stores they are collected in memory and sent in one PUT (a stream closed after a failure would upload its part).
     */
    public static void writeFile(FileSystem fs, Path file, AtomicFiles.Content content) throws IOException {
        if (isObjectStore(fs)) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            content.writeTo(buffer);
            try (OutputStream out = fs.create(file, true)) {
                buffer.writeTo(out);
            }
            return;
        }
        if (isLocal(fs)) {
            java.nio.file.Path target = local(fs, file);
            Files.createDirectories(target.getParent());
            AtomicFiles.write(target, content);
            return;
        }
        Path tmp = new Path(file.getParent(), "_" + file.getName() + ".tmp-" + UUID.randomUUID());
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                content.writeTo(out);
            }
            FileContext.getFileContext(file.toUri(), fs.getConf()).rename(tmp, fs.makeQualified(file),
                    Options.Rename.OVERWRITE);
        } finally {
            fs.delete(tmp, false);
        }
    }

    /**
     * Writes {@code bytes} to {@code file} only if no file is there yet, atomically where the store allows it
     * ({@code CREATE_NEW} locally, the NameNode's create-without-overwrite on HDFS); throws
     * {@link FileAlreadyExistsException} naming the file, and leaves it as it was, when it existed. Object stores
     * have no such create in hadoop-aws 3.4: there this checks, then PUTs, and the caller must read back.
     */
    public static void createNew(FileSystem fs, Path file, byte[] bytes) throws IOException {
        if (isLocal(fs)) {
            java.nio.file.Path target = local(fs, file);
            Files.createDirectories(target.getParent());
            try {
                Files.write(target, bytes, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
                return;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw exists(fs, file);
            }
        }
        if (isObjectStore(fs)) {
            if (fs.exists(file)) {
                throw exists(fs, file);
            }
            try (OutputStream out = fs.create(file, true)) {
                out.write(bytes);
            }
            return;
        }
        try (OutputStream out = fs.create(file, false)) {
            out.write(bytes);
        } catch (FileAlreadyExistsException e) {
            throw exists(fs, file);
        }
    }

    private static FileAlreadyExistsException exists(FileSystem fs, Path file) {
        return new FileAlreadyExistsException("Cannot create " + fs.makeQualified(file) + ": it exists");
    }

    /**
     * Renames directory {@code from} to {@code to} atomically on rename stores, failing with
     * {@link FileAlreadyExistsException} when {@code to} exists (another writer committed first). Not for object
     * stores, where a rename is a copy.
     */
    public static void renameDirectory(FileSystem fs, Path from, Path to) throws IOException {
        if (isObjectStore(fs)) {
            throw new IOException("Cannot rename " + from + " to " + to + ": " + fs.getUri().getScheme()
                    + ":// is an object store, where a rename is a copy; write in place with a marker last instead");
        }
        if (isLocal(fs)) {
            java.nio.file.Path target = local(fs, to);
            if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) { // rename(2) replaces an empty dir
                throw new FileAlreadyExistsException(to + " exists");
            }
            try {
                Files.move(local(fs, from), target, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | DirectoryNotEmptyException e) {
                throw new FileAlreadyExistsException(to + " exists");
            }
            return;
        }
        try {
            FileContext.getFileContext(to.toUri(), fs.getConf()).rename(fs.makeQualified(from), fs.makeQualified(to),
                    Options.Rename.NONE);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            throw e;
        } catch (IOException e) {
            if (fs.exists(to)) {
                throw new FileAlreadyExistsException(to + " exists: " + e.getMessage());
            }
            throw e;
        }
    }

    /**
     * Commits directory {@code from} as {@code to} on a rename store, replacing what {@code to} held: an existing
     * {@code to} is first renamed to {@code aside} (which must not exist), {@code from} renamed into place, and
     * {@code aside} deleted. Readers of {@code to} see the old directory, nothing (between the two renames), or the
     * new one — never a mix. Throws {@link FileAlreadyExistsException} when another writer put a new {@code to} in
     * place between the two renames (then {@code aside} is deleted and {@code from} left for the caller).
     */
    public static void replaceDirectory(FileSystem fs, Path from, Path to, Path aside) throws IOException {
        boolean movedAside = false;
        if (fs.exists(to)) {
            renameDirectory(fs, to, aside);
            movedAside = true;
        }
        try {
            renameDirectory(fs, from, to);
        } finally {
            if (movedAside) {
                deleteRecursively(fs, aside);
            }
        }
    }

    /** Deletes {@code p} and everything below it; false when it was not there. */
    public static boolean deleteRecursively(FileSystem fs, Path p) throws IOException {
        try {
            return fs.delete(p, true);
        } catch (FileNotFoundException e) {
            return false;
        }
    }

    /** A file's whole content; {@link FileNotFoundException} when it is absent. */
    public static byte[] readAll(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }

    /** A file's whole content, or null when it is absent. */
    public static byte[] readIfExists(FileSystem fs, Path file) throws IOException {
        try {
            return readAll(fs, file);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    /** SHA-256, lowercase hex, of {@code bytes}: {@link Hashing#sha256(byte[])}, here so storage callers need one class. */
    public static String sha256(byte[] bytes) {
        return Hashing.sha256(bytes);
    }

    /**
     * SHA-256, lowercase hex, of a file's bytes, streamed: equal to {@link Hashing#sha256(byte[])} of its content and
     * to {@link Hashing#sha256(java.nio.file.Path)} of the same file on a local disk.
     */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest md = newSha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = fs.open(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** A fresh SHA-256 digest ({@link Hashing#newSha256()}), for callers that hash while they write. */
    public static MessageDigest newSha256() {
        return Hashing.newSha256();
    }
}
