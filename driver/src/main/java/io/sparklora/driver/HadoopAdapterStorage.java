package io.sparklora.driver;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.ModelConfig;
import io.sparklora.serve.AdapterStorage;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A {@code train} output on any Hadoop file system ({@code file://}, {@code hdfs://}, {@code s3a://}) for the serve
 * module's adapter cache; adapters are read with {@link AdapterFiles}, the one reader train and eval use.
 */
public final class HadoopAdapterStorage implements AdapterStorage {
    private final String root;
    private final Configuration conf;
    private final FileSystem fs;

    public HadoopAdapterStorage(String root, Configuration conf) throws IOException {
        this.root = root;
        this.conf = conf;
        this.fs = new Path(root).getFileSystem(conf);
        if (!fs.exists(new Path(root))) {
            throw new IOException("Cannot open adapters " + root + ": no such directory");
        }
    }

    @Override
    public String name() {
        return root;
    }

    @Override
    public byte[] readIfExists(String path) throws IOException {
        Path p = new Path(root, path);
        if (!fs.exists(p)) {
            return null;
        }
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    @Override
    public String version(String path) throws IOException {
        Path p = new Path(root, path);
        if (!fs.exists(p)) {
            return null;
        }
        FileStatus st = fs.getFileStatus(p);
        return st.getLen() + ":" + st.getModificationTime();
    }

    @Override
    public List<String> adapterDirs(String path) throws IOException {
        Path dir = new Path(root, path);
        if (!fs.exists(dir)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        FileStatus[] children = fs.listStatus(dir);
        Arrays.sort(children, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
        for (FileStatus c : children) {
            if (c.isDirectory() && fs.exists(new Path(c.getPath(), AdapterStore.CONFIG_JSON))) {
                out.add(c.getPath().getName());
            }
        }
        return out;
    }

    @Override
    public LoraAdapter readAdapter(String path, ModelConfig base) throws IOException {
        return AdapterFiles.read(new Path(root, path).toString(), conf, base);
    }
}
