package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LinearModule;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --full} on Spark {@code local[2]} with Kryo registration required, over the tiny LLaMA of
 * {@link TrainCommandTest} and two keys: a fine-tuned HF checkpoint per key, every weight changed, a lower held-out
 * loss than the base on its own key, a report naming each model with its manifest numbers
 * ({@link FullTrainReportCheck}), and {@code extract} at full rank of one of them gives back its linear weights.
 */
class FullTrainCommandTest {
    static SparkSession spark;

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "FullTrainCommandTest", 2);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        data = twoKeys(shared.resolve("data.jsonl"));
    }

    /** 24 rows each of two keys, {@code lang} = cat or market, each repeating its own sentence 2 to 4 times. */
    static Path twoKeys(Path data) throws IOException {
        List<String> lines = new ArrayList<>();
        String[] keys = {"cat", "market"};
        for (int i = 0; i < 24; i++) {
            for (int k = 0; k < 2; k++) {
                lines.add(TrainCommandTest.JSON.writeValueAsString(java.util.Map.of("lang", keys[k], "text",
                        TrainCommandTest.SENTENCES[k].repeat(2 + i % 3))));
            }
        }
        Files.write(data, lines);
        return data;
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static CliTest.Run train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--full", "--model", model.toString(), "--data",
                data.toString(), "--partition-by", "lang", "--steps", "20", "--batch", "4", "--seq", "32", "--lr",
                "3e-3", "--out", out.toString()));
        for (int i = 0; i < extra.length; i += 2) { // an option given again replaces the one above
            int at = args.indexOf(extra[i]);
            if (at >= 0) {
                args.set(at + 1, extra[i + 1]);
            } else {
                args.addAll(List.of(extra[i], extra[i + 1]));
            }
        }
        return CliTest.cli(args.toArray(String[]::new));
    }

    @Test
    void oneFineTunedModelPerKeyThatBeatsTheBaseAndExtractsBackExactly(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        CliTest.Run run = train(out);
        assertEquals(0, run.status(), run.err());
        // 256·32 embedding + 256·32 untied head + 32 final norm + one layer: q, o 32·32, k, v 16·32, gate, up,
        // down 64·32, two norms of 32
        assertTrue(run.out().contains("Full fine-tuning: 25,696 parameters"), run.out());
        assertTrue(run.out().contains("Trained 2 model(s); 0 already complete"), run.out());
        JsonNode m = TrainCommandTest.manifest(out);
        assertEquals(0, m.path("adapters").size());
        assertEquals(2, m.path("models").size());
        BaseModel base = Checkpoints.load(model);
        for (JsonNode e : m.path("models")) {
            String name = e.path("name").asText();
            assertEquals("models/" + name, e.path("path").asText());
            assertEquals("trained", e.path("status").asText());
            assertEquals(20, e.path("steps").asInt());
            assertEquals(25_696, e.path("parameters").asLong());
            assertTrue(e.path("final_held_out_loss").asDouble() < e.path("base_held_out_loss").asDouble() - 0.1,
                    e.toString());
            Path dir = out.resolve("models").resolve(name);
            assertEquals(io.sparklora.util.Hashing.sha256(dir.resolve("model.safetensors")),
                    e.path("sha256").path("model.safetensors").asText());
            BaseModel tuned = Checkpoints.load(dir);
            for (String key : base.weights().keySet()) { // every weight trained, norms and embeddings too
                assertTrue(maxDifference(base.weight(key), tuned.weight(key)) > 0, name + " " + key);
            }
            JsonNode t = TrainCommandTest.JSON.readTree(dir.resolve("training.json").toFile());
            assertEquals("full_weights", t.path("mode").asText());
            assertTrue(t.path("lora").isNull());
        }
        // the report: a row per model with the manifest's held-out loss, seconds and parameters, and its loss curves;
        // `report` renders the same page again from the output
        assertTrue(run.out().contains("Report: " + out.toAbsolutePath().resolve("report/index.html")), run.out());
        String page = FullTrainReportCheck.check(out);
        CliTest.Run report = CliTest.cli("report", "--out", out.toString());
        assertEquals(0, report.status(), report.err());
        assertEquals(withoutGenerated(page), withoutGenerated(FullTrainReportCheck.check(out)));

        // own held-out data, measured outside training: score the held-out-free text of each key
        Path catText = tmp.resolve("cat.txt");
        Files.writeString(catText, TrainCommandTest.SENTENCES[0].repeat(6));
        double baseLoss = PretrainCommandTest.score(model, catText);
        double tunedLoss = PretrainCommandTest.score(out.resolve("models/cat"), catText);
        assertTrue(tunedLoss < baseLoss - 0.5, baseLoss + " -> " + tunedLoss);

        // extract at full rank (32; k/v, 16 wide under grouped-query attention, keep their 16) and merge it into
        // the base: the tuned model's linear weights come back
        CliTest.Run extract = CliTest.cli("extract", "--model", model.toString(), "--tuned",
                out.resolve("models/cat").toString(), "--rank", "32", "--out", tmp.resolve("cat-adapter").toString());
        assertEquals(0, extract.status(), extract.err());
        CliTest.Run merge = CliTest.cli("merge", "--model", model.toString(), "--adapter",
                tmp.resolve("cat-adapter").toString(), "--out", tmp.resolve("cat-merged").toString());
        assertEquals(0, merge.status(), merge.err());
        BaseModel tuned = Checkpoints.load(out.resolve("models/cat"));
        BaseModel merged = Checkpoints.load(tmp.resolve("cat-merged"));
        for (LinearModule l : blockLinears(base)) {
            double[] change = AdapterFixtures.weightDifference(l, base, tuned);
            assertTrue(AdapterFixtures.relativeError(AdapterFixtures.weightDifference(l, base, merged), change)
                    < 1e-4, l.path());
        }
        assertEquals(0, rerun(out), "a re-run trains nothing");
    }

    /** The page without its "Generated <time> by ..." sentence. */
    static String withoutGenerated(String html) {
        return html.replaceAll("Generated [^<]*\\.</p>", "</p>");
    }

    private int rerun(Path out) {
        CliTest.Run again = train(out);
        assertTrue(again.out().contains("Models: 2 planned, 0 to train, 2 already complete"), again.out());
        return again.status();
    }

    @Test
    void loraOptionsAndWhatCannotFitAreRefusedUpFront(@TempDir Path tmp) {
        CliTest.Run rank = train(tmp.resolve("a"), "--rank", "4");
        assertEquals(1, rank.status(), rank.err());
        assertTrue(rank.err().contains("Invalid --rank with --full: full fine-tuning trains every weight, no LoRA "
                + "adapter"), rank.err());
        CliTest.Run huge = train(tmp.resolve("b"), "--batch", "200000");
        assertEquals(1, huge.status(), huge.out());
        assertTrue(huge.err().contains("Cannot train --full: the local driver JVM needs about"), huge.err());
        assertTrue(huge.err().contains("25,696 parameters × 16 bytes"), huge.err());
        assertFalse(Files.exists(tmp.resolve("b").resolve("models")), "nothing trained");
    }

    private static double maxDifference(Tensor a, Tensor b) {
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            max = Math.max(max, Math.abs((double) a.get(i) - b.get(i)));
        }
        return max;
    }

    static List<LinearModule> blockLinears(BaseModel m) {
        return m.config().linearModules().stream().filter(l -> l.layer() >= 0).toList();
    }
}
