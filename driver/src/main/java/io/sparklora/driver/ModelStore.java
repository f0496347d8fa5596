package io.sparklora.driver;

import io.sparklora.infer.EosTokens;
import io.sparklora.storage.HadoopByteSource;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.tokenizer.HfTokenizer;
import io.sparklora.tokenizer.Tokenizers;
import io.sparklora.model.ModelConfig;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.ShardedSafeTensors;
import io.sparklora.util.Hashing;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Hugging Face model directories on any Hadoop file system ({@code file://}, {@code hdfs://}, {@code s3a://}): local
 * ones go through {@link Checkpoints} directly; remote ones are read through {@link HadoopByteSource}, with the same
 * checks. Used by the driver, and by executors under {@code --base-on-executors}.
 */
public final class ModelStore {
    private ModelStore() {
    }

    /** What the driver learns about a model before any training: its config and tokenizer. */
    public record ModelInfo(String uri, ModelConfig config, TokenizerSpec tokenizer) {
    }

    /**
     * Reads {@code config.json} and {@code tokenizer.json} (with {@code tokenizer_config.json}, when present), checks
     * that the tokenizer's ids fit the model's vocabulary and that the weights file exists.
     * Fails with "Cannot load base model <uri>: <reason>".
     */
    public static ModelInfo describe(String uri, Configuration conf) {
        Path dir = new Path(uri);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(dir)) {
                throw new IOException("no such directory");
            }
            String qualified = fs.makeQualified(dir).toString();
            ModelConfig config = Checkpoints.parseConfig(readString(fs, new Path(dir, Checkpoints.CONFIG)),
                    qualified + "/" + Checkpoints.CONFIG);
            if (!fs.exists(new Path(dir, Checkpoints.SAFETENSORS))
                    && !fs.exists(new Path(dir, Checkpoints.SAFETENSORS_INDEX))) {
                throw new IOException("it has neither " + Checkpoints.SAFETENSORS + " nor "
                        + Checkpoints.SAFETENSORS_INDEX);
            }
            Path tok = new Path(dir, "tokenizer.json");
            Path tokConfig = new Path(dir, HfTokenizer.CONFIG);
            TokenizerSpec tokenizer = TokenizerSpec.bytes();
            if (fs.exists(tok)) {
                String json = readString(fs, tok);
                int ids = HfTokenizer.vocabSize(json, qualified + "/tokenizer.json");
                if (ids > config.vocabSize()) {
                    throw new IOException("its tokenizer.json has " + ids + " ids, more than config.json's vocab_size "
                            + config.vocabSize());
                }
                tokenizer = TokenizerSpec.huggingFace(json, fs.exists(tokConfig) ? readString(fs, tokConfig) : null);
            }
            return new ModelInfo(qualified, config, tokenizer);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("Cannot load base model " + uri + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot load base model " + uri + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Cannot load base model " + uri + ": " + e.getMessage(), e);
        }
    }

    /** Loads config and weights, one safetensors file or shards behind an index, from any Hadoop file system. */
    public static BaseModel load(String uri, Configuration conf) throws IOException {
        return load(uri, conf, Checkpoints::load);
    }

    /** Opens config and weights as {@link #load(String, Configuration)} does, for {@code reader}; closes them after. */
    public static <T> T load(String uri, Configuration conf, Checkpoints.WeightsReader<T> reader) throws IOException {
        Path dir = new Path(uri);
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.getScheme().equals("file")) {
            return Checkpoints.load(java.nio.file.Path.of(fs.makeQualified(dir).toUri()), reader);
        }
        String qualified = fs.makeQualified(dir).toString();
        ModelConfig config = Checkpoints.parseConfig(readString(fs, new Path(dir, Checkpoints.CONFIG)),
                qualified + "/" + Checkpoints.CONFIG);
        Path weights = new Path(dir, Checkpoints.SAFETENSORS);
        Path index = new Path(dir, Checkpoints.SAFETENSORS_INDEX);
        if (fs.exists(weights)) {
            try (SafeTensorsReader src = SafeTensorsReader.open(HadoopByteSource.open(fs, weights))) {
                return reader.read(config, src);
            }
        }
        if (!fs.exists(index)) {
            throw new IOException("Cannot load model " + qualified + ": it has neither " + Checkpoints.SAFETENSORS
                    + " nor " + Checkpoints.SAFETENSORS_INDEX);
        }
        // shards beside the index, each read through the file system with positioned reads
        try (ShardedSafeTensors src = ShardedSafeTensors.open(qualified + "/" + Checkpoints.SAFETENSORS_INDEX,
                readString(fs, index), file -> {
                    Path shard = new Path(dir, file);
                    return fs.exists(shard) ? SafeTensorsReader.open(HadoopByteSource.open(fs, shard)) : null;
                })) {
            return reader.read(config, src);
        }
    }

    /** {@link Hashing#sha256(Path)}'s directory hash, over every file below {@code uri} on its file system. */
    public static String sha256(String uri, Configuration conf) throws IOException {
        Path dir = new Path(uri);
        FileSystem fs = dir.getFileSystem(conf);
        Path root = fs.makeQualified(dir);
        List<Hashing.NamedFile> files = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            FileStatus st = it.next();
            String rel = root.toUri().relativize(st.getPath().toUri()).getPath();
            Path p = st.getPath();
            files.add(new Hashing.NamedFile(rel, st.getLen(), () -> fs.open(p)));
        }
        return Hashing.sha256(files);
    }

    /**
     * The checkpoint's EOS ids and the tokenizer's ({@link EosTokens}): {@code generation_config.json} and
     * {@code config.json} fetched from the model's file system.
     */
    public static int[] eosIds(ModelInfo model, Configuration conf) throws IOException {
        java.nio.file.Path local = Files.createTempDirectory("spark-lora-eos");
        try {
            copyPresent(model.uri(), conf, List.of("generation_config.json", Checkpoints.CONFIG), local);
            return EosTokens.read(local, model.config().vocabSize(), model.tokenizer().get());
        } finally {
            deleteFlat(local);
        }
    }

    /**
     * Copies the tokenizer files ({@link Tokenizers#FILES}) present in the model at {@code uri} into {@code to}, so a
     * checkpoint derived from that model (merged, pretrained) tokenizes as it does.
     */
    public static void copyTokenizerFiles(String uri, Configuration conf, java.nio.file.Path to) throws IOException {
        copyPresent(uri, conf, Tokenizers.FILES, to);
    }

    private static void copyPresent(String uri, Configuration conf, List<String> names, java.nio.file.Path to)
            throws IOException {
        Path dir = new Path(uri);
        FileSystem fs = dir.getFileSystem(conf);
        for (String f : names) {
            Path src = new Path(dir, f);
            if (fs.exists(src)) {
                try (InputStream in = fs.open(src)) {
                    Files.copy(in, to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteFlat(java.nio.file.Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (java.nio.file.Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    static String readString(FileSystem fs, Path file) throws IOException {
        if (!fs.exists(file)) {
            throw new FileNotFoundException(file.getName() + " is missing");
        }
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
