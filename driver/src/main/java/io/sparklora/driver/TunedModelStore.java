package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.Fingerprint;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.storage.HadoopStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The {@code models/} directory of a {@code train --full} output: one Hugging Face checkpoint per partition
 * ({@code config.json}, {@code model.safetensors}, the base's tokenizer files, {@code training.json}), committed as
 * {@link AdapterStore} commits adapters: complete exactly when {@value AdapterStore#MARKER} (fingerprint and SHA-256 of
 * config and weights) is present, written last; on rename stores the attempt writes
 * {@code models/_tmp-<name>-<attempt>} and renames it into place, on object stores it removes the old marker, writes the files at their final keys and the
 * marker last. A late attempt that finds its own fingerprint committed changes nothing.
 */
final class TunedModelStore {
    static final String DIR = "models";
    static final List<String> IDENTITY_FILES = List.of(Checkpoints.CONFIG, Checkpoints.SAFETENSORS);

    private final FileSystem fs;
    private final Path models; // <out>/models

    TunedModelStore(String outUri, Configuration conf) throws IOException {
        Path out = new Path(outUri);
        this.fs = out.getFileSystem(conf);
        this.models = fs.makeQualified(new Path(out, DIR));
    }

    Path dir(String name) {
        return new Path(models, name);
    }

    FileSystem fs() {
        return fs;
    }

    /** The marker of a committed model: its fingerprint's combined digest and identity SHA-256, or null. */
    JsonNode marker(String name) throws IOException {
        Path m = new Path(dir(name), AdapterStore.MARKER);
        if (!fs.exists(m)) {
            return null;
        }
        try (InputStream in = fs.open(m)) {
            JsonNode n = TrainingRecord.JSON.readTree(in);
            return n != null && n.path("format_version").asInt(-1) == AdapterStore.MARKER_FORMAT_VERSION ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    boolean isCommitted(String name, Fingerprint fingerprint) throws IOException {
        JsonNode m = marker(name);
        return m != null && m.path("fingerprint").path("combined").asText().equals(fingerprint.combined());
    }

    /** Commits the model; false when this fingerprint's model was already committed. */
    boolean commit(String name, String attemptId, BaseModel model, TokenizerSpec tokenizer, byte[] trainingJson,
                   Fingerprint fingerprint) throws IOException {
        if (isCommitted(name, fingerprint)) {
            return false;
        }
        java.nio.file.Path local = Files.createTempDirectory("spark-lora-model");
        try {
            Checkpoints.save(model, local);
            tokenizer.writeFiles(local);
            Files.write(local.resolve(AdapterStore.TRAINING_JSON), trainingJson);
            Map<String, String> sha = new LinkedHashMap<>();
            for (String f : IDENTITY_FILES) {
                sha.put(f, io.sparklora.util.Hashing.sha256(local.resolve(f)));
            }
            byte[] marker = markerJson(name, fingerprint, sha);
            Path target = dir(name);
            if (HadoopStorage.isObjectStore(fs.getScheme())) {
                fs.delete(new Path(target, AdapterStore.MARKER), false);
                upload(local, target, marker);
                return true;
            }
            Path tmp = new Path(models, "_tmp-" + name + "-" + attemptId);
            Path aside = new Path(models, "_replaced-" + name + "-" + attemptId);
            try {
                upload(local, tmp, marker);
                if (isCommitted(name, fingerprint)) {
                    return false;
                }
                try {
                    HadoopStorage.replaceDirectory(fs, tmp, target, aside);
                } catch (FileAlreadyExistsException e) { // a sibling attempt renamed first: same fingerprint
                    return false;
                }
                return true;
            } finally {
                fs.delete(tmp, true);
            }
        } finally {
            try (var files = Files.list(local)) {
                for (java.nio.file.Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(local);
        }
    }

    /** Every local file, then the marker. */
    private void upload(java.nio.file.Path local, Path dir, byte[] marker) throws IOException {
        fs.mkdirs(dir);
        try (var files = Files.list(local)) {
            for (java.nio.file.Path p : files.sorted().toList()) {
                LocalUploads.put(fs, p, new Path(dir, p.getFileName().toString()));
            }
        }
        try (OutputStream o = fs.create(new Path(dir, AdapterStore.MARKER), true)) {
            o.write(marker);
        }
    }

    private static byte[] markerJson(String name, Fingerprint f, Map<String, String> sha) throws IOException {
        ObjectNode o = TrainingRecord.JSON.createObjectNode();
        o.put("format_version", AdapterStore.MARKER_FORMAT_VERSION);
        o.put("model", name);
        ObjectNode fp = o.putObject("fingerprint");
        fp.put("base_model", f.baseModel());
        fp.put("settings", f.settings());
        fp.put("data", f.data());
        fp.put("combined", f.combined());
        ObjectNode s = o.putObject("sha256");
        sha.forEach(s::put);
        return TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
    }
}
