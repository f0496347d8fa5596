package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.model.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-runs of {@code train} on the same {@code --out} decide per adapter from its fingerprint (base model, settings,
 * data); one adapter's failure (too small, unusable rows, NaN loss) never stops the others; exit codes 0 / 3 / 1.
 */
class TrainRerunTest {
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path model;
    static Path otherModel;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        setUp(shared);
    }

    /** A Spark session, two tiny models and a three-key data file under {@code dir} (for other test classes too). */
    static void setUp(Path dir) throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "TrainRerunTest", 4);
        model = dir.resolve("model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 7), model);
        otherModel = dir.resolve("other-model");
        Checkpoints.save(Checkpoints.random(TrainCommandTest.TINY, 8), otherModel);
        data = dir.resolve("data.jsonl");
        Files.write(data, lines(3, 20));
    }

    /** {@code keys} keys of {@code rows} rows each. */
    static List<String> lines(int keys, int rows) throws IOException {
        List<String> lines = new ArrayList<>();
        String[] names = {"cat", "market", "noise", "song"};
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < keys; k++) {
                lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("lang", names[k], "text",
                        TrainCommandTest.SENTENCES[k].repeat(2 + i % 3))));
            }
        }
        return lines;
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static String[] train(Path out, Path dataFile, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data",
                dataFile.toString(), "--partition-by", "lang", "--rank", "2", "--steps", "4", "--batch", "2",
                "--seq", "32", "--lr", "1e-2", "--checkpoint-every", "2", "--progress-seconds", "100", "--out",
                out.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int at = args.indexOf(extra[i]);
            if (at >= 0) {
                args.set(at + 1, extra[i + 1]);
            } else {
                args.add(extra[i]);
                args.add(extra[i + 1]);
            }
        }
        return args.toArray(String[]::new);
    }

    /** name → status (reason) of every adapter in the manifest. */
    static Map<String, String> statuses(Path out) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (JsonNode a : TrainCommandTest.manifest(out).path("adapters")) {
            m.put(a.path("name").asText(), a.path("status").asText() + " (" + a.path("reason").asText() + ")");
        }
        return m;
    }

    static CliTest.Run ok(String... args) {
        CliTest.Run run = CliTest.cli(args);
        assertEquals(0, run.status(), run.out() + run.err());
        return run;
    }

    @Test
    void reRunsRetrainExactlyTheAdaptersWhoseBaseSettingsOrDataChanged(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok(train(out, data));
        assertEquals(Map.of("cat", "trained (new)", "market", "trained (new)", "noise", "trained (new)"),
                statuses(out));
        String catBefore = Files.readString(out.resolve("adapters/cat/training.json"));

        // Same command, and a setting that does not change the weights: nothing trains.
        ok(train(out, data, "--checkpoint-every", "3"));
        statuses(out).values().forEach(s -> assertEquals("existing (fingerprint matches)", s));
        assertEquals(catBefore, Files.readString(out.resolve("adapters/cat/training.json")));

        // One key's data grows: only that adapter retrains.
        Path grown = tmp.resolve("grown.jsonl");
        List<String> more = new ArrayList<>(Files.readAllLines(data));
        more.add(TrainCommandTest.JSON.writeValueAsString(Map.of("lang", "market", "text", "a new market day. ")));
        Files.write(grown, more);
        CliTest.Run run = ok(train(out, grown));
        assertTrue(run.out().contains("Adapter market: retrained: data changed"), run.out());
        assertEquals(Map.of("cat", "existing (fingerprint matches)", "market", "trained (retrained: data changed)",
                "noise", "existing (fingerprint matches)"), statuses(out));
        assertEquals(catBefore, Files.readString(out.resolve("adapters/cat/training.json")));
        assertEquals(21, TrainCommandTest.manifest(out).path("adapters").get(1).path("rows").asInt());

        // The same rows in another order: same digest, nothing trains.
        List<String> shuffled = new ArrayList<>(more);
        java.util.Collections.reverse(shuffled);
        Path reversed = tmp.resolve("reversed.jsonl");
        Files.write(reversed, shuffled);
        ok(train(out, reversed));
        statuses(out).values().forEach(s -> assertEquals("existing (fingerprint matches)", s));

        // --existing keep: a changed rank keeps every adapter, and the manifest keeps the fingerprint that made it.
        String fpBefore = TrainCommandTest.manifest(out).path("adapters").get(0).path("fingerprint").toString();
        ok(train(out, grown, "--rank", "3", "--existing", "keep"));
        statuses(out).values().forEach(s -> assertEquals(
                "existing (kept by --existing keep although its settings changed)", s));
        assertEquals(fpBefore, TrainCommandTest.manifest(out).path("adapters").get(0).path("fingerprint").toString());
        assertEquals(2, TrainCommandTest.manifest(out).path("adapters").get(0).path("rank").asInt());

        // --existing fail: refused before training, exit 1, nothing changed.
        CliTest.Run refused = CliTest.cli(train(out, grown, "--rank", "3", "--existing", "fail"));
        assertEquals(1, refused.status(), refused.out());
        assertEquals("Error: Cannot train: --existing fail and 3 adapter(s) of " + out + " were made differently: "
                + "cat (settings changed); market (settings changed); noise (settings changed)",
                refused.err().strip());
        assertEquals(catBefore, Files.readString(out.resolve("adapters/cat/training.json")));

        // A changed rank (default --existing retrain): all retrain, at rank 3.
        ok(train(out, grown, "--rank", "3"));
        statuses(out).values().forEach(s -> assertEquals("trained (retrained: settings changed)", s));
        TrainCommandTest.manifest(out).path("adapters").forEach(a -> assertEquals(3, a.path("rank").asInt()));

        // Another base model: all retrain, and each adapter's fingerprint names the new base.
        ok(train(out, grown, "--rank", "3", "--model", otherModel.toString()));
        statuses(out).values().forEach(s -> assertEquals("trained (retrained: base model changed)", s));
        String otherSha = io.sparklora.util.Hashing.sha256(otherModel);
        TrainCommandTest.manifest(out).path("adapters").forEach(a -> assertEquals(otherSha,
                a.path("fingerprint").path("base_model").asText()));
        assertFalse(Files.exists(out.resolve("_checkpoints")));
    }

    @Test
    void aSmallKeyAnUnusableKeyAndANanKeyNeverStopTheOthers(@TempDir Path tmp) throws IOException {
        List<String> lines = lines(2, 20);
        lines.add(TrainCommandTest.JSON.writeValueAsString(Map.of("lang", "tiny", "text", "hi there")));
        for (int i = 0; i < 5; i++) {
            lines.add("{\"lang\": \"broken\", \"text\": null}");
        }
        Path mixed = tmp.resolve("mixed.jsonl");
        Files.write(mixed, lines);
        Path out = tmp.resolve("out");
        spark.conf().set(SparkTrainJob.POISON_AT_STEP, "market:2");
        CliTest.Run run;
        try {
            run = CliTest.cli(train(out, mixed));
        } finally {
            spark.conf().unset(SparkTrainJob.POISON_AT_STEP);
        }
        assertEquals(3, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("Skipping key tiny: too small: its 1 usable row(s) hold 8 tokens, 1 window(s) "
                + "of 32; holding out 1 (--held-out 0.1) leaves none to train on"), run.out());
        assertTrue(run.out().contains("Skipping key broken: all 5 rows are shorter than 2 tokens"), run.out());
        assertTrue(run.out().contains("Failed adapters"), run.out());
        JsonNode m = TrainCommandTest.manifest(out);
        assertEquals("trained", m.path("adapters").get(0).path("status").asText());
        JsonNode market = m.path("adapters").get(1);
        assertEquals("market", market.path("name").asText());
        assertEquals("failed", market.path("status").asText());
        assertEquals("deterministic", market.path("failure").asText());
        assertTrue(market.path("reason").asText().startsWith("Cannot train adapter market: loss is NaN at step 3"),
                market.toString());
        assertTrue(run.out().contains("market                   deterministic  Cannot train adapter market: loss is "
                + "NaN at step 3"), run.out());
        assertEquals(List.of("broken", "tiny"), List.of(m.path("skipped").get(0).path("key").asText(),
                m.path("skipped").get(1).path("key").asText()));
        assertFalse(Files.exists(out.resolve("adapters/market")), "a failed adapter leaves nothing");
        assertFalse(Files.exists(out.resolve("_checkpoints")), "nor checkpoints");
        assertTrue(Files.exists(out.resolve("adapters/cat/adapter_model.safetensors")));
        assertTrue(Files.exists(out.resolve("report/index.html")), "the report shows the adapters that committed");

        // A re-run does not retrain a deterministic failure at the same fingerprint: it reports it again, exit 3.
        CliTest.Run again = CliTest.cli(train(out, mixed));
        assertEquals(3, again.status(), again.out() + again.err());
        assertTrue(again.out().contains("Adapters: 2 planned, 0 to train"), again.out());
        assertTrue(statuses(out).get("market").startsWith("failed (failed before at this fingerprint, not retried: "
                + "Cannot train adapter market: loss is NaN"), statuses(out).toString());

        // Another fingerprint (a changed learning rate) retries it: now it trains, exit 0.
        CliTest.Run changed = ok(train(out, mixed, "--lr", "5e-3"));
        assertEquals("trained (retrained: settings changed)", statuses(out).get("cat"));
        assertEquals("trained (new)", statuses(out).get("market"));
        assertTrue(changed.out().contains("0 failed"), changed.out());
    }

    @Test
    void anOutputThatIsNotOursIsRefusedAndNothingOfItIsTouched(@TempDir Path tmp) throws IOException {
        Path out = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        CliTest.Run run = CliTest.cli(train(out, data));
        assertEquals(1, run.status(), run.out());
        assertEquals("Error: Cannot write to output " + out + ": it exists, is not empty and is not a spark-lora "
                + "output (it has neither _spark_lora.json nor manifest.json); choose another --out or empty it",
                run.err().strip());
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));

        // Inside a spark-lora output, an adapters/<name> spark-lora did not write is refused, never deleted.
        Path ours = tmp.resolve("ours");
        ok(train(ours, data));
        TrainCommandTest.deleteTree(ours.resolve("adapters/cat"));
        Files.createDirectories(ours.resolve("adapters/cat"));
        Files.writeString(ours.resolve("adapters/cat/README.md"), "a user's notes");
        CliTest.Run refused = CliTest.cli(train(ours, data));
        assertEquals(1, refused.status(), refused.out());
        assertEquals("Error: Cannot train adapter cat into file:" + ours.resolve("adapters/cat") + ": it holds files spark-lora did not write; move them away or choose another "
                + "--out", refused.err().strip());
        assertEquals("a user's notes", Files.readString(ours.resolve("adapters/cat/README.md")));
    }

    @Test
    void aLaterVersionsManifestIsRefusedBeforeTrainingAndLeftAsItIs(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        ok(train(out, data, "--steps", "2"));
        Path manifest = out.resolve("manifest.json");
        String newer = Files.readString(manifest).replace("\"format_version\" : 1,", "\"format_version\" : 2,");
        Files.writeString(manifest, newer);
        Files.deleteIfExists(out.resolve(".manifest.json.crc"));
        byte[] cat = Files.readAllBytes(out.resolve("adapters/cat/adapter_model.safetensors"));

        CliTest.Run refused = CliTest.cli(train(out, data, "--steps", "3")); // would retrain every adapter
        assertEquals(1, refused.status(), refused.out() + refused.err());
        assertEquals("Error: Cannot read " + new org.apache.hadoop.fs.Path(out.resolve("manifest.json").toUri())
                + ": format_version 2 is newer than this spark-lora knows (written by a later version?); this "
                + "spark-lora reads format_version 1; train into another --out, or with that version",
                refused.err().strip());
        assertEquals(newer, Files.readString(manifest));
        assertTrue(java.util.Arrays.equals(cat,
                Files.readAllBytes(out.resolve("adapters/cat/adapter_model.safetensors"))), "cat untouched");

        // The refusal released the output: with the manifest back at version 1 the same command runs.
        Files.writeString(manifest, newer.replace("\"format_version\" : 2,", "\"format_version\" : 1,"));
        ok(train(out, data, "--steps", "3"));
    }
}
