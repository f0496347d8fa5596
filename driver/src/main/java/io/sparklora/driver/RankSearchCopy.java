package io.sparklora.driver;

import io.sparklora.storage.HadoopStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Publishes the rank a search chose: the committed adapter of {@code _rank_search/r<rank>/adapters/<name>/} copied to
 * {@code adapters/<name>/} so that readers of {@code adapters/} never see a mix — on rename stores into a temporary
 * sibling renamed into place, on object stores the old marker removed first and the marker copied last. A target
 * holding files spark-lora did not write is refused, never deleted. An adapter
 * whose marker already equals the chosen one's is left as it is (a re-run).
 */
final class RankSearchCopy {
    private RankSearchCopy() {
    }

    /** Publishes the chosen adapter; false when {@code adapters/<name>/} already held exactly it. */
    static boolean publish(AdapterStore target, AdapterStore round, String name, Configuration conf)
            throws IOException {
        FileSystem fs = target.fs();
        Path from = round.dir(name);
        Path to = target.dir(name);
        byte[] marker = HadoopStorage.readAll(round.fs(), new Path(from, AdapterStore.MARKER));
        Path existing = new Path(to, AdapterStore.MARKER);
        if (fs.exists(existing) && java.util.Arrays.equals(marker, HadoopStorage.readAll(fs, existing))) {
            return false;
        }
        if (target.state(name) == AdapterStore.State.FOREIGN) { // never delete what spark-lora did not write
            throw new IOException("Cannot publish the rank search's adapter " + name + " to " + to + ": it holds "
                    + "files spark-lora did not write");
        }
        if (HadoopStorage.isObjectStore(fs)) {
            fs.delete(existing, false);
            copyFiles(round.fs(), from, fs, to);
            return true;
        }
        String id = java.util.UUID.randomUUID().toString();
        Path tmp = new Path(to.getParent(), "_tmp-" + name + "-search-" + id);
        try {
            copyFiles(round.fs(), from, fs, tmp);
            HadoopStorage.replaceDirectory(fs, tmp, to, new Path(to.getParent(), "_replaced-" + name + "-search-" + id));
            return true;
        } finally {
            fs.delete(tmp, true);
        }
    }

    /** Every file of {@code from}, the marker last. */
    private static void copyFiles(FileSystem src, Path from, FileSystem dst, Path to) throws IOException {
        if (HadoopStorage.isLocal(dst)) {
            java.nio.file.Files.createDirectories(HadoopStorage.local(dst, to));
        } else {
            dst.mkdirs(to);
        }
        for (FileStatus f : src.listStatus(from)) {
            if (f.isFile() && !f.getPath().getName().equals(AdapterStore.MARKER)) {
                copy(src, f.getPath(), dst, new Path(to, f.getPath().getName()));
            }
        }
        copy(src, new Path(from, AdapterStore.MARKER), dst, new Path(to, AdapterStore.MARKER));
    }

    /** One file; on {@code file://} with java.nio, like {@link AdapterStore}'s commit (no {@code .crc} side file). */
    private static void copy(FileSystem src, Path from, FileSystem dst, Path to) throws IOException {
        if (HadoopStorage.isLocal(dst)) {
            try (InputStream in = src.open(from)) {
                java.nio.file.Files.copy(in, HadoopStorage.local(dst, to),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return;
        }
        try (InputStream in = src.open(from); OutputStream out = dst.create(to, true)) {
            in.transferTo(out);
        }
    }
}
