package io.sparklora.cli;

import io.sparklora.storage.HadoopStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@link OutputDirs} for an output on any Hadoop file system ({@code file://}, {@code hdfs://}, {@code s3a://}): the
 * local writers of the formats (PEFT adapters, HF checkpoints) write into a local temporary directory, which is then
 * published whole. Local outputs go through {@link OutputDirs} (a rename); on HDFS the files are uploaded into a hidden
 * sibling and renamed into place; on object stores, which cannot rename (see {@link HadoopStorage}), they are put at
 * their final keys with the files a loader opens first ({@link #OPENED_FIRST}) last, so a present config means the
 * weights beside it are complete, and a failed upload deletes what it put.
 */
final class StoreOutputDirs {
    /** The files a loader looks for first (a PEFT adapter's, an HF checkpoint's): uploaded last. */
    static final List<String> OPENED_FIRST = List.of("adapter_config.json", "config.json");

    private StoreOutputDirs() {
    }

    /** Writes {@code writer}'s directory to {@code uri}, which must be absent or an empty directory. */
    static void writeAtomically(String uri, Configuration conf, String what, OutputDirs.DirWriter writer)
            throws IOException {
        Path target = new Path(uri);
        FileSystem fs = target.getFileSystem(conf);
        if (fs.getScheme().equals("file")) {
            OutputDirs.writeAtomically(java.nio.file.Path.of(fs.makeQualified(target).toUri()), what, writer);
            return;
        }
        String cannot = "Cannot write " + what + " to " + uri + ": ";
        target = fs.makeQualified(target);
        if (fs.exists(target) && (!fs.getFileStatus(target).isDirectory() || fs.listStatus(target).length > 0)) {
            throw new IOException(cannot + "it exists and is not an empty directory");
        }
        java.nio.file.Path local = Files.createTempDirectory("spark-lora-out");
        try {
            writer.write(local);
            List<java.nio.file.Path> files = uploadOrder(local);
            if (HadoopStorage.isObjectStore(fs.getScheme())) {
                putInPlace(fs, target, local, files, cannot);
            } else {
                renameIntoPlace(fs, conf, target, local, files, cannot);
            }
        } finally {
            OutputDirs.deleteRecursively(local);
        }
    }

    private static void renameIntoPlace(FileSystem fs, Configuration conf, Path target, java.nio.file.Path local,
                                        List<java.nio.file.Path> files, String cannot) throws IOException {
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            upload(fs, tmp, local, files);
            if (fs.exists(target)) {
                fs.delete(target, false); // the empty directory checked above
            }
            HadoopStorage.renameDirectory(fs, tmp, target);
        } catch (IOException | RuntimeException e) {
            fs.delete(tmp, true);
            throw new IOException(cannot + e.getMessage(), e);
        }
    }

    private static void putInPlace(FileSystem fs, Path target, java.nio.file.Path local, List<java.nio.file.Path> files,
                                   String cannot) throws IOException {
        try {
            upload(fs, target, local, files);
        } catch (IOException | RuntimeException e) {
            fs.delete(target, true);
            throw new IOException(cannot + e.getMessage(), e);
        }
    }

    private static void upload(FileSystem fs, Path dir, java.nio.file.Path local, List<java.nio.file.Path> files)
            throws IOException {
        for (java.nio.file.Path f : files) {
            String relative = local.relativize(f).toString().replace(java.io.File.separatorChar, '/');
            io.sparklora.driver.LocalUploads.put(fs, f, new Path(dir, relative));
        }
    }

    /** Every file below {@code local}, the {@link #OPENED_FIRST} ones last. */
    private static List<java.nio.file.Path> uploadOrder(java.nio.file.Path local) throws IOException {
        List<java.nio.file.Path> first = new ArrayList<>();
        List<java.nio.file.Path> last = new ArrayList<>();
        try (Stream<java.nio.file.Path> walk = Files.walk(local)) {
            for (java.nio.file.Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                (OPENED_FIRST.contains(p.getFileName().toString()) ? last : first).add(p);
            }
        }
        first.addAll(last);
        return first;
    }
}
