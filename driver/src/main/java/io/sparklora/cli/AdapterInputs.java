package io.sparklora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.driver.AdapterFiles;
import io.sparklora.driver.AdapterStore;
import io.sparklora.driver.ModelStore;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The PEFT adapters a command takes as input ({@code combine}), read from any store, with what each says about the
 * base it was trained on: {@code base_model_name_or_path} from its config and, when {@code train} wrote it, the
 * SHA-256 of the base model directory from {@code training.json}. {@link #checkSameBase} refuses adapters of another
 * base before any arithmetic, since shapes alone do not tell two bases of one architecture apart.
 */
final class AdapterInputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One input: where it is, the adapter, and its base as recorded (null where not recorded): the path of
     * training.json, else the config's base_model_name_or_path.
     */
    record Input(String uri, LoraAdapter adapter, String baseName, String baseSha256) {
    }

    private AdapterInputs() {
    }

    static Input read(String uri, ModelConfig base, Configuration conf) throws IOException {
        Path dir = new Path(uri);
        FileSystem fs = dir.getFileSystem(conf);
        LoraAdapter adapter = AdapterFiles.read(uri, conf, base);
        JsonNode config = readJson(fs, new Path(dir, AdapterStore.CONFIG_JSON), uri);
        JsonNode training = readJson(fs, new Path(dir, AdapterStore.TRAINING_JSON), uri);
        String recorded = text(training == null ? null : training.path("base_model").path("path"));
        String name = recorded != null ? recorded
                : text(config == null ? null : config.path("base_model_name_or_path"));
        String sha = text(training == null ? null : training.path("base_model").path("sha256"));
        return new Input(uri, adapter, name, sha);
    }

    /**
     * Fails with "Cannot {action}: …" when an input records a base SHA-256 other than {@code --model}'s, or when
     * inputs without one name different bases in {@code base_model_name_or_path}.
     */
    static void checkSameBase(List<Input> inputs, String modelUri, Configuration conf, String action)
            throws IOException {
        String modelSha = null;
        List<Input> unverified = new ArrayList<>();
        for (Input in : inputs) {
            if (in.baseSha256() == null) {
                unverified.add(in);
                continue;
            }
            if (modelSha == null) {
                modelSha = ModelStore.sha256(modelUri, conf);
            }
            if (!in.baseSha256().equals(modelSha)) {
                throw new IllegalArgumentException("Cannot " + action + ": adapter " + in.uri()
                        + " was trained on another base model (" + (in.baseName() != null ? in.baseName() : "?")
                        + ", sha256 " + in.baseSha256() + ") than --model " + modelUri + " (sha256 " + modelSha + ")");
            }
        }
        Input named = null;
        for (Input in : unverified) {
            if (in.baseName() == null) {
                continue;
            }
            if (named == null) {
                named = in;
            } else if (!named.baseName().equals(in.baseName())) {
                throw new IllegalArgumentException("Cannot " + action + ": adapters of different base models: "
                        + named.uri() + " has base_model_name_or_path " + named.baseName() + ", " + in.uri()
                        + " has " + in.baseName());
            }
        }
    }

    private static JsonNode readJson(FileSystem fs, Path file, String uri) throws IOException {
        if (!fs.exists(file)) {
            return null;
        }
        try (InputStream in = fs.open(file)) {
            return JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("Cannot read adapter " + uri + ": " + file.getName() + " is not valid JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
    }

    private static String text(JsonNode n) {
        return n == null || !n.isTextual() || n.asText().isEmpty() ? null : n.asText();
    }
}
