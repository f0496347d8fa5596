package io.sparklora.driver;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.storage.FileSink;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The {@code adapters/} directory of a train output on any Hadoop file system, and how one adapter is committed to it
 * so that retried and speculative attempts never leave a partial or duplicate adapter.
 *
 * <p>On stores with atomic rename (HDFS, local): the attempt writes {@code adapters/_tmp-<name>-<attempt>/} and
 * renames it to {@code adapters/<name>} with a rename that fails when the target exists; the loser of a race (or an
 * attempt that finds a complete adapter already there) deletes its own copy. On object stores (s3a, gs, …) a rename is
 * a copy, so the files are written to their final keys directly — the weights, then training.json, then
 * adapter_config.json last; each PUT is atomic, and two attempts write identical bytes. In both cases an adapter is
 * complete exactly when its three files exist.
 */
public final class AdapterStore {
    public static final String TRAINING_JSON = "training.json";
    public static final String CONFIG_JSON = "adapter_config.json";
    private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "obs");

    private final FileSystem fs;
    private final Path adapters; // <out>/adapters
    private final Configuration conf;

    public AdapterStore(String outUri, Configuration conf) throws IOException {
        Path out = new Path(outUri);
        this.fs = out.getFileSystem(conf);
        this.adapters = fs.makeQualified(new Path(out, "adapters"));
        this.conf = conf;
    }

    public Path dir(String name) {
        return new Path(adapters, name);
    }

    public FileSystem fs() {
        return fs;
    }

    /** True when all three files of the adapter are present. */
    public boolean isComplete(String name) throws IOException {
        Path d = dir(name);
        return fs.exists(new Path(d, CONFIG_JSON)) && fs.exists(new Path(d, PeftAdapters.WEIGHTS_FILE))
                && fs.exists(new Path(d, TRAINING_JSON));
    }

    /**
     * Commits the adapter and its training.json; returns false when a complete copy was already there (then nothing
     * of this attempt remains).
     */
    public boolean commit(String name, String attemptId, LoraAdapter adapter, String baseModel, byte[] trainingJson)
            throws IOException {
        if (isComplete(name)) {
            return false;
        }
        Path target = dir(name);
        if (OBJECT_STORES.contains(fs.getScheme())) {
            write(target, adapter, baseModel, trainingJson);
            return true;
        }
        Path tmp = new Path(adapters, "_tmp-" + name + "-" + attemptId);
        fs.delete(tmp, true);
        try {
            write(tmp, adapter, baseModel, trainingJson);
            if (fs.exists(target)) {
                if (isComplete(name)) {
                    fs.delete(tmp, true);
                    return false;
                }
                fs.delete(target, true); // an incomplete leftover (a copy-based rename cut short)
            }
            try {
                FileContext.getFileContext(target.toUri(), conf).rename(tmp, target, Options.Rename.NONE);
            } catch (FileAlreadyExistsException e) {
                fs.delete(tmp, true); // another attempt won the race with identical content
                return false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            fs.delete(tmp, true);
            throw e;
        }
    }

    private void write(Path dir, LoraAdapter adapter, String baseModel, byte[] trainingJson) throws IOException {
        fs.mkdirs(dir);
        FileSink sink = (fileName, content) -> {
            if (fileName.equals(CONFIG_JSON)) { // the PEFT config is the last file: training.json goes before it
                writeFile(new Path(dir, TRAINING_JSON), out -> out.write(trainingJson));
            }
            writeFile(new Path(dir, fileName), content);
        };
        PeftAdapters.write(dir.toString(), sink, adapter, baseModel);
    }

    private void writeFile(Path file, AtomicFiles.Content content) throws IOException {
        try (OutputStream out = fs.create(file, true)) {
            content.writeTo(out);
        }
    }
}
