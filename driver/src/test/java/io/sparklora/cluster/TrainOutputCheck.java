package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.driver.AdapterStore;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What a finished {@code train} output must hold on any store, read back only through the Hadoop FileSystem API:
 * {@code manifest.json} listing one trained adapter per key; each {@code adapters/<name>/} holding exactly the PEFT
 * pair, {@code training.json} and the completion marker written last, with the SHA-256 the manifest records for the
 * PEFT pair (the adapter's identity); the PEFT files loading as an adapter of the
 * base with the requested rank and a trained (non-zero) {@code lora_B}; no temporary or checkpoint leftovers.
 */
final class TrainOutputCheck {
    static final List<String> ADAPTER_FILES = List.of(AdapterStore.MARKER, "adapter_config.json",
            "adapter_model.safetensors", "training.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainOutputCheck() {
    }

    /** Verifies the output and returns the manifest. */
    static JsonNode verify(URI out, Configuration conf, ModelConfig base, Set<String> keys, int rank, int steps,
                           java.nio.file.Path scratch) throws IOException {
        try (FileSystem fs = FileSystem.newInstance(out, conf)) {
            Path root = new Path(out);
            JsonNode manifest = JSON.readTree(FileSystemRoundTrip.read(fs, new Path(root, "manifest.json")));
            JsonNode adapters = manifest.path("adapters");
            assertEquals(keys.size(), adapters.size(), "adapters in the manifest: " + manifest.toPrettyString());
            Set<String> seenKeys = new TreeSet<>();
            Set<String> names = new TreeSet<>();
            for (JsonNode a : adapters) {
                String name = a.path("name").asText();
                seenKeys.add(a.path("key").asText());
                names.add(name);
                assertEquals("adapters/" + name, a.path("path").asText());
                assertEquals("trained", a.path("status").asText(), a.toString());
                assertEquals(rank, a.path("rank").asInt(), a.toString());
                assertEquals(steps, a.path("steps").asInt(), a.toString());
                double loss = a.path("final_train_loss").asDouble(Double.NaN);
                assertTrue(Double.isFinite(loss) && loss > 0, "final_train_loss of " + name + ": " + loss);

                Path dir = new Path(root, "adapters/" + name);
                List<String> files = Arrays.stream(fs.listStatus(dir)).map(s -> s.getPath().getName()).sorted()
                        .toList();
                assertEquals(ADAPTER_FILES, files, "files of " + dir);
                for (String f : AdapterStore.IDENTITY_FILES) {
                    byte[] bytes = FileSystemRoundTrip.read(fs, new Path(dir, f));
                    assertEquals(a.path("sha256").path(f).asText(), sha256(bytes), "sha256 of " + dir + "/" + f);
                }
                JsonNode peftConfig = JSON.readTree(FileSystemRoundTrip.read(fs, new Path(dir,
                        "adapter_config.json")));
                assertEquals("LORA", peftConfig.path("peft_type").asText());
                assertEquals(rank, peftConfig.path("r").asInt());

                java.nio.file.Path local = Files.createDirectories(scratch.resolve(name));
                for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
                    Files.write(local.resolve(f), FileSystemRoundTrip.read(fs, new Path(dir, f)));
                }
                LoraAdapter adapter = PeftAdapters.read(local, base);
                assertFalse(adapter.modules().isEmpty(), "modules of " + name);
                double bNorm = 0;
                for (LoraModule m : adapter.modules().values()) {
                    assertEquals(rank, m.rank(), m.target().path());
                    Tensor b = m.loraB().value(); // (out, rank), zero at initialisation
                    for (int i = 0; i < b.size(); i++) {
                        bNorm += Math.abs(b.get(i));
                    }
                }
                assertTrue(bNorm > 0, "lora_B of " + name + " is still zero: the adapter was not trained");
            }
            assertEquals(keys, seenKeys, "source keys in the manifest");
            List<String> dirs = Arrays.stream(fs.listStatus(new Path(root, "adapters")))
                    .map(s -> s.getPath().getName()).sorted().toList();
            assertEquals(List.copyOf(names), dirs, "entries of adapters/ (no _tmp-* leftovers)");
            Path checkpoints = new Path(root, "_checkpoints");
            if (fs.exists(checkpoints)) {
                FileStatus[] left = fs.listStatus(checkpoints);
                assertEquals(0, left.length, "checkpoints left: " + Arrays.toString(left));
            }
            return manifest;
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
