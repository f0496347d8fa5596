package io.sparklora.driver;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.ModelConfig;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads a PEFT adapter directory from any Hadoop file system: local directories directly with
 * {@link PeftAdapters#read}; remote ones (a few MB) copied to a local temporary directory first, so the one reader
 * with all its checks serves every store.
 */
public final class AdapterFiles {
    private AdapterFiles() {
    }

    /**
     * The adapter at {@code dirUri} for {@code base}; errors name {@code dirUri}: "Cannot read adapter URI: no such
     * directory", "…: adapter_config.json is missing", and every check of {@link PeftAdapters#read}.
     */
    public static LoraAdapter read(String dirUri, Configuration conf, ModelConfig base) throws IOException {
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.getScheme().equals("file")) {
            return PeftAdapters.read(java.nio.file.Path.of(fs.makeQualified(dir).toUri()), dirUri, base);
        }
        if (!fs.exists(dir)) {
            throw new IOException("Cannot read adapter " + dirUri + ": no such directory");
        }
        java.nio.file.Path local = Files.createTempDirectory("spark-lora-adapter");
        try {
            for (String f : new String[] {AdapterStore.CONFIG_JSON, PeftAdapters.WEIGHTS_FILE}) {
                if (fs.exists(new Path(dir, f))) { // an absent one is reported by the reader, naming dirUri
                    fs.copyToLocalFile(false, new Path(dir, f), new Path(local.resolve(f).toUri()), true);
                }
            }
            if (fs.exists(new Path(dir, PeftAdapters.PICKLE_FILE))) {
                Files.createFile(local.resolve(PeftAdapters.PICKLE_FILE)); // only its presence matters: it is refused
            }
            return PeftAdapters.read(local, dirUri, base);
        } finally {
            try (var files = Files.list(local)) {
                for (java.nio.file.Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(local);
        }
    }
}
