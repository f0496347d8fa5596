package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.fuzz.Fuzz;
import io.sparklora.output.ManifestFile;
import io.sparklora.output.ManifestFileTest;
import io.sparklora.output.TrainingFile;
import io.sparklora.output.TrainingFileTest;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the readers of a train output's own documents (see {@link Fuzz}): mutants of manifest.json (a train, a tree
 * with a rank search, a {@code --full} output, each as {@link ManifestFile} writes it) and of training.json (the
 * shipped base's, an adapter's, a model's, a tree path's) either read or fail with an IOException naming the file —
 * never another exception, never a hang.
 */
class RecordsFuzzTest {
    private static final String MANIFEST = "hdfs://nn/runs/x/manifest.json";
    private static final String TRAINING = "hdfs://nn/runs/x/adapters/cat/training.json";

    @Test
    void mutatedManifests() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (String json : List.of(ManifestFileTest.TRAIN, ManifestFileTest.TREE, ManifestFileTest.FULL)) {
            seeds.add(ManifestFile.read(json.getBytes(StandardCharsets.UTF_8), "seed").toJson());
        }
        Fuzz.run("manifest-json", 10_000, seeds, true, MANIFEST, input -> {
            ManifestFile m = ManifestFile.read(input, MANIFEST);
            for (ManifestFile.Entry e : m.offered()) { // what eval and serve then use of each entry
                e.isFailed();
                e.name();
                e.path();
            }
            m.toJson(); // what a re-run writes back
        }, IOException.class);
    }

    @Test
    void mutatedTrainingRecords() throws IOException {
        // the shipped base's training.json (written by pretrain), its histories cut to a few points to keep it small,
        // and an adapter's, a train --full model's and a tree path's as TrainingFile writes them
        JsonNode real = StrictJson.MAPPER.readTree(Files.readAllBytes(Path.of("..", "models", "demo-base",
                "training.json")));
        shorten(real);
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(real));
        for (String json : List.of(TrainingFileTest.ADAPTER, TrainingFileTest.FULL, TrainingFileTest.TREE_PATH)) {
            seeds.add(TrainingFile.read(json.getBytes(StandardCharsets.UTF_8), "seed").toJson());
        }
        Fuzz.run("training-json", 10_000, seeds, true, TRAINING, input -> {
            TrainingFile t = TrainingFile.read(input, TRAINING);
            // what CommittedEntry, SweepJob, RankSearchJob and TunedModelManifest then use of it
            CommittedEntry.outcome(t, t.lora() == null ? null : t.lora().rank(), null, t.targets(), null, null);
            t.totalSeconds();
            t.toJson();
        }, IOException.class);
    }

    /** Every array cut to its first 3 elements, in place. */
    private static void shorten(JsonNode n) {
        if (n instanceof ArrayNode a) {
            while (a.size() > 3) {
                a.remove(a.size() - 1);
            }
        }
        if (n instanceof ObjectNode || n instanceof ArrayNode) {
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
                shorten(it.next());
            }
        }
    }
}
