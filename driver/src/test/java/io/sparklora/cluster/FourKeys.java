package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;

/**
 * The job the cluster and fault tests run (a tiny LLaMA, four keys of 24 rows, six steps, a checkpoint every three)
 * and its undisturbed reference: the same job on {@code local[2]} writing to {@code file://}, run once per test JVM
 * and shared by every test class that compares its adapters with it. Training is deterministic given the data, the
 * seed and the settings, so any run of this job, however disturbed, must end with the reference's weight files.
 * Lives under {@code target/four-keys}.
 *
 * @param model     the base model directory
 * @param config    its configuration
 * @param data      the JSONL rows
 * @param rows      the rows as a local file
 * @param reference the manifest of the reference run
 */
record FourKeys(Path model, ModelConfig config, byte[] data, Path rows, JsonNode reference) {
    static final Set<String> KEYS = Set.of("alpha", "beta", "gamma", "delta");
    static final int RANK = 4;
    static final int STEPS = 6;
    private static FourKeys shared;

    static synchronized FourKeys get() {
        if (shared == null) {
            try {
                shared = build(Path.of("target", "four-keys").toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    private static FourKeys build(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> old = Files.walk(dir)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        Path model = dir.resolve("model");
        CliCapture.Run init = CliCapture.run(Map.of(), "init-model", "--family", "llama", "--dim", "32",
                "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ffn", "64", "--vocab", "256", "--max-seq", "64", "--seed", "11",
                "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        ModelConfig config = Checkpoints.readConfig(model);
        byte[] data = jsonl();
        Path rows = Files.write(dir.resolve("rows.jsonl"), data);
        FourKeys job = new FourKeys(model, config, data, rows, null);
        Path out = dir.resolve("reference");
        LeftoverSpark.stop();
        CliCapture.Run run = CliCapture.run(Map.of(), job.trainArgs("local[2]", rows.toUri(), out.toUri())
                .toArray(String[]::new));
        assertEquals(0, run.status(), run.err());
        JsonNode reference = TrainOutputCheck.verify(out.toUri(), new Configuration(), config, KEYS, RANK, STEPS,
                dir.resolve("reference-read-back"));
        return new FourKeys(model, config, data, rows, reference);
    }

    /** train's arguments for data at {@code dataUri} and output at {@code outUri}. */
    List<String> trainArgs(String master, URI dataUri, URI outUri) {
        return List.of("train", "--model", model.toString(), "--data", dataUri.toString(), "--format", "jsonl",
                "--partition-by", "topic", "--rank", String.valueOf(RANK), "--steps", String.valueOf(STEPS),
                "--batch", "2", "--seq", "32", "--lr", "1e-2", "--checkpoint-every", "3", "--seed", "5",
                "--out", outUri.toString(), "--master", master);
    }

    /** Four keys, each with its own vocabulary of phrases, 24 rows each. */
    private static byte[] jsonl() {
        Map<String, String[]> words = new TreeMap<>(Map.of(
                "alpha", new String[] {"apple", "amber", "arrow", "atlas"},
                "beta", new String[] {"bread", "brick", "bison", "brass"},
                "gamma", new String[] {"grape", "gravel", "goose", "glass"},
                "delta", new String[] {"dune", "dragon", "dozen", "drum"}));
        StringBuilder out = new StringBuilder();
        for (int row = 0; row < 24; row++) {
            for (Map.Entry<String, String[]> e : words.entrySet()) {
                String[] w = e.getValue();
                String text = w[row % 4] + " and " + w[(row + 1) % 4] + " then " + w[(row + 2) % 4] + " with "
                        + w[(row * 3 + 1) % 4] + ".";
                out.append("{\"topic\": \"").append(e.getKey()).append("\", \"text\": \"").append(text)
                        .append("\"}\n");
            }
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
