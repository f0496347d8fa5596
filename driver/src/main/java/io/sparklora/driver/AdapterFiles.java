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

    public static LoraAdapter read(String dirUri, Configuration conf, ModelConfig base) throws IOException {
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.getScheme().equals("file")) {
            return PeftAdapters.read(java.nio.file.Path.of(fs.makeQualified(dir).toUri()), base);
        }
        java.nio.file.Path local = Files.createTempDirectory("spark-lora-adapter");
        try {
            for (String f : new String[] {AdapterStore.CONFIG_JSON, PeftAdapters.WEIGHTS_FILE}) {
                fs.copyToLocalFile(false, new Path(dir, f), new Path(local.resolve(f).toUri()), true);
            }
            return PeftAdapters.read(local, base);
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
