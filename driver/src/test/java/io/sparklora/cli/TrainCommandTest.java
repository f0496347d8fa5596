package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.driver.ExecutorModels;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train} and {@code eval} on Spark {@code local[2,4]} (two task slots, four attempts per task) with Kryo and
 * {@code spark.kryo.registrationRequired=true}, over a tiny LLaMA.
 */
class TrainCommandTest {
    /** Byte vocabulary, hidden 32, 1 layer, std 0.2 (see the job module's TrainerFixtures for why not 0.02). */
    static final LlamaConfig TINY = new LlamaConfig(256, 32, 64, 1, 4, 2, 8, 64, 1e-5, 10000, false, false, false,
            0.2);
    static final String[] SENTENCES = {"the cat sat on the mat. ", "buy low and sell high! ",
            "zzz qqq xxx 123 456. ", "o sole mio, sta nfronte a te. "};
    static final ObjectMapper JSON = new ObjectMapper();
    static SparkSession spark;

    /**
     * Writes {@link #TINY} (seed 7) to {@code dir/model} and 16 rows each of keys {@code cat} and {@code market}
     * (column {@code lang}, {@link #SENTENCES} 0 and 1 three times) to {@code dir/rows.jsonl}; returns the data file.
     */
    static Path tinyModelAndTwoKeys(Path dir) throws IOException {
        Checkpoints.save(Checkpoints.random(TINY, 7), dir.resolve("model"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            for (String k : new String[] {"cat", "market"}) {
                lines.add(JSON.writeValueAsString(java.util.Map.of("lang", k, "text",
                        SENTENCES[k.equals("cat") ? 0 : 1].repeat(3))));
            }
        }
        return Files.write(dir.resolve("rows.jsonl"), lines);
    }

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2,4]", "TrainCommandTest", 4);
        model = shared.resolve("model");
        Checkpoints.save(Checkpoints.random(TINY, 7), model);
        data = shared.resolve("data.jsonl");
        List<String> lines = new ArrayList<>();
        String[] keys = {"cat", "market", "noise", "song"};
        for (int i = 0; i < 24; i++) {
            for (int k = 0; k < 4; k++) {
                lines.add(JSON.writeValueAsString(java.util.Map.of("lang", keys[k], "text",
                        SENTENCES[k].repeat(2 + i % 3))));
            }
        }
        Files.write(data, lines);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** The test's train command line; {@code extra} holds option/value pairs. */
    static String[] train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--partition-by", "lang", "--targets", "all-linear", "--rank", "4", "--steps", "30", "--batch", "4",
                "--seq", "32", "--lr", "1e-2", "--checkpoint-every", "10", "--out", out.toString()));
        for (int i = 0; i < extra.length; i += 2) { // an option given again replaces the default above
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

    static JsonNode manifest(Path out) throws IOException {
        return JSON.readTree(out.resolve("manifest.json").toFile());
    }

    @Test
    void fourKeysFourAdaptersEachBestOnItsOwnKeyThenReRunsTrainOnlyWhatIsMissing(@TempDir Path tmp)
            throws IOException {
        Path out = tmp.resolve("out");
        int builds = ExecutorModels.builds();
        long t0 = System.nanoTime();
        CliTest.Run run = CliTest.cli(train(out));
        double sparkSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, run.status(), run.err());
        assertEquals(builds + 1, ExecutorModels.builds(), "four tasks, one executor: the base is rebuilt once");
        assertTrue(run.out().contains("Trained 4 adapter(s); 0 already complete"), run.out());
        assertTrue(run.out().contains("held-out loss"), run.out()); // the final table's header

        JsonNode m = manifest(out);
        assertEquals(4, m.path("adapters").size());
        BaseModel base = Checkpoints.load(model);
        Set<String> keys = new HashSet<>();
        for (JsonNode a : m.path("adapters")) {
            String name = a.path("name").asText();
            keys.add(a.path("key").asText());
            assertEquals(name, a.path("key").asText()); // plain keys are their own names
            assertEquals("adapters/" + name, a.path("path").asText());
            assertEquals(4, a.path("rank").asInt());
            assertEquals(24, a.path("rows").asLong());
            assertEquals(30, a.path("steps").asInt());
            assertEquals("trained", a.path("status").asText());
            assertTrue(a.path("final_held_out_loss").asDouble() < a.path("base_held_out_loss").asDouble(),
                    a.toString());
            // the identity files: what an attempt of the same fingerprint reproduces (training.json has timings)
            assertEquals(Set.of("adapter_config.json", "adapter_model.safetensors"), fieldNames(a.path("sha256")));
            assertEquals(io.sparklora.util.Hashing.sha256(out.resolve("adapters").resolve(name)
                    .resolve("adapter_model.safetensors")), a.path("sha256").path("adapter_model.safetensors").asText());
            LoraAdapter adapter = PeftAdapters.read(out.resolve("adapters").resolve(name), base.config());
            assertEquals(7, adapter.modules().size()); // all-linear: q, k, v, o, gate, up, down of one layer
            JsonNode t = JSON.readTree(out.resolve("adapters").resolve(name).resolve("training.json").toFile());
            assertEquals(io.sparklora.util.Hashing.sha256(model), t.path("base_model").path("sha256").asText());
            assertEquals(30, t.path("train_history").size());
        }
        assertEquals(Set.of("cat", "market", "noise", "song"), keys);
        assertFalse(Files.exists(out.resolve("_checkpoints")), "checkpoints are removed once committed");

        // eval: each adapter has the lowest held-out loss on its own key and beats the base there.
        Path evalOut = tmp.resolve("eval.json");
        CliTest.Run eval = CliTest.cli("eval", "--model", model.toString(), "--adapters", out.toString(),
                "--out", evalOut.toString());
        assertEquals(0, eval.status(), eval.err());
        JsonNode matrix = JSON.readTree(evalOut.toFile());
        List<String> columns = new ArrayList<>();
        matrix.path("columns").forEach(c -> columns.add(c.asText()));
        JsonNode rows = matrix.path("rows");
        assertEquals(5, rows.size());
        JsonNode baseRow = rows.get(4);
        assertEquals("base", baseRow.path("adapter").asText());
        for (int r = 0; r < 4; r++) {
            String name = rows.get(r).path("adapter").asText();
            int own = columns.indexOf(name);
            double ownLoss = rows.get(r).path("loss").get(own).asDouble();
            assertTrue(ownLoss < baseRow.path("loss").get(own).asDouble(), name + ": " + matrix);
            for (int other = 0; other < 4; other++) {
                if (other != r) {
                    assertTrue(ownLoss < rows.get(other).path("loss").get(own).asDouble(), name + ": " + matrix);
                }
            }
            assertEquals(Math.exp(ownLoss), rows.get(r).path("perplexity").get(own).asDouble(), 1e-9);
        }
        // eval's base column equals the base loss the trainer measured on the same held-out windows
        for (JsonNode a : m.path("adapters")) {
            int col = columns.indexOf(a.path("name").asText());
            assertEquals(a.path("base_held_out_loss").asDouble(), baseRow.path("loss").get(col).asDouble(), 1e-6);
        }

        // Re-run of the finished job: nothing trained, files untouched.
        String before = Files.readString(out.resolve("adapters/cat/training.json"));
        int buildsBefore = ExecutorModels.builds();
        CliTest.Run again = CliTest.cli(train(out));
        assertEquals(0, again.status(), again.err());
        assertEquals(buildsBefore, ExecutorModels.builds(), "nothing to train: no broadcast, no task");
        assertTrue(again.out().contains("Trained 0 adapter(s); 4 already complete"), again.out());
        assertEquals(before, Files.readString(out.resolve("adapters/cat/training.json")));
        manifest(out).path("adapters").forEach(a -> assertEquals("existing", a.path("status").asText()));

        // After losing one adapter, only that one trains.
        deleteTree(out.resolve("adapters/noise"));
        CliTest.Run partial = CliTest.cli(train(out));
        assertEquals(0, partial.status(), partial.err());
        assertTrue(partial.out().contains("Trained 1 adapter(s); 3 already complete"), partial.out());
        for (JsonNode a : manifest(out).path("adapters")) {
            assertEquals(a.path("name").asText().equals("noise") ? "trained" : "existing", a.path("status").asText());
        }
        assertEquals(before, Files.readString(out.resolve("adapters/cat/training.json")));

        // The same four adapters one after another in this JVM, without Spark, for the wall-time comparison.
        long s0 = System.nanoTime();
        for (String k : new String[] {"cat", "market", "noise", "song"}) {
            SequentialBaseline.train(model, data, k, tmp.resolve("seq-" + k));
        }
        double sequentialSeconds = (System.nanoTime() - s0) / 1e9;
        System.out.printf("WALL local[2] four adapters: %.1f s; sequential in one JVM: %.1f s%n", sparkSeconds,
                sequentialSeconds);
    }

    @Test
    void threeShards(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        String[] args = train(out);
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--partition-by")) {
                args[i] = "--shards";
                args[i + 1] = "3";
            }
        }
        CliTest.Run run = CliTest.cli(args);
        assertEquals(0, run.status(), run.err());
        JsonNode m = manifest(out);
        assertEquals(3, m.path("adapters").size());
        long rows = 0;
        for (int i = 0; i < 3; i++) {
            JsonNode a = m.path("adapters").get(i);
            assertEquals("shard-" + i, a.path("name").asText());
            assertEquals(Integer.toString(i), a.path("key").asText());
            rows += a.path("rows").asLong();
            assertTrue(a.path("rows").asLong() > 10, a.toString()); // 96 rows, random: none nearly empty
        }
        assertEquals(96, rows);
        assertEquals(3, m.path("job").path("shards").asInt());

        // Shards and adapters depend on row content and seed, not on row order: the reversed file gives the same.
        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        java.util.Collections.reverse(lines);
        Path reversed = tmp.resolve("reversed.jsonl");
        Files.write(reversed, lines);
        Path out2 = tmp.resolve("out2");
        String[] args2 = args.clone();
        args2[java.util.Arrays.asList(args2).indexOf("--data") + 1] = reversed.toString();
        args2[java.util.Arrays.asList(args2).indexOf("--out") + 1] = out2.toString();
        assertEquals(0, CliTest.cli(args2).status());
        for (int i = 0; i < 3; i++) {
            JsonNode a = m.path("adapters").get(i);
            JsonNode b = manifest(out2).path("adapters").get(i);
            assertEquals(a.path("rows"), b.path("rows"));
            assertEquals(a.path("sha256").path("adapter_model.safetensors"),
                    b.path("sha256").path("adapter_model.safetensors"), a.path("name").asText());
        }
    }

    @Test
    void retriedTaskResumesFromItsCheckpointAndEqualsAnUndisturbedRun(@TempDir Path tmp) throws IOException {
        Path clean = tmp.resolve("clean");
        assertEquals(0, CliTest.cli(train(clean, "--steps", "20")).status());
        Path faulty = tmp.resolve("faulty");
        spark.conf().set(SparkTrainJob.FAIL_AT_STEP, "market:10");
        CliTest.Run run;
        try {
            run = CliTest.cli(train(faulty, "--steps", "20"));
        } finally {
            spark.conf().unset(SparkTrainJob.FAIL_AT_STEP);
        }
        assertEquals(0, run.status(), run.err());
        JsonNode t = JSON.readTree(faulty.resolve("adapters/market/training.json").toFile());
        assertEquals(10, t.path("resumed_from_step").asInt());
        assertEquals(1, t.path("attempt").asInt());
        assertEquals(20, t.path("train_history").size()); // the first 10 steps come from the checkpoint
        JsonNode other = JSON.readTree(faulty.resolve("adapters/cat/training.json").toFile());
        assertEquals(0, other.path("resumed_from_step").asInt());
        BaseModel base = Checkpoints.load(model);
        LoraAdapter a = PeftAdapters.read(faulty.resolve("adapters/market"), base.config());
        LoraAdapter b = PeftAdapters.read(clean.resolve("adapters/market"), base.config());
        for (int i = 0; i < a.parameters().size(); i++) {
            Parameter pa = a.parameters().get(i);
            Parameter pb = b.parameters().get(i);
            assertEquals(pb.name(), pa.name());
            float[] x = pa.value().toArray();
            float[] y = pb.value().toArray();
            for (int j = 0; j < x.length; j++) {
                assertEquals(y[j], x[j], 1e-6, pa.name() + "[" + j + "]");
            }
        }
        assertTrue(Files.list(faulty.resolve("adapters")).allMatch(p -> !p.getFileName().toString()
                .startsWith("_tmp-")), "no temporary adapter directory is left");
    }

    @Test
    void baseOnExecutorsTrainsTheSameAdaptersAsTheBroadcast(@TempDir Path tmp) throws IOException {
        Path broadcast = tmp.resolve("broadcast");
        Path onExecutors = tmp.resolve("on-executors");
        assertEquals(0, CliTest.cli(train(broadcast, "--steps", "4")).status());
        int builds = ExecutorModels.builds();
        List<String> args = new ArrayList<>(List.of(train(onExecutors, "--steps", "4")));
        args.add("--base-on-executors");
        CliTest.Run run = CliTest.cli(args.toArray(String[]::new));
        assertEquals(0, run.status(), run.err());
        assertEquals(builds + 1, ExecutorModels.builds(), "one load per executor (one JVM here)");
        for (String k : new String[] {"cat", "market", "noise", "song"}) {
            assertEquals(io.sparklora.util.Hashing.sha256(broadcast.resolve("adapters").resolve(k)
                            .resolve("adapter_model.safetensors")),
                    io.sparklora.util.Hashing.sha256(onExecutors.resolve("adapters").resolve(k)
                            .resolve("adapter_model.safetensors")), k);
        }
    }

    @Test
    void parquetPromptCompletionRowsWithAnIntegerKeyAndEvalByAnotherColumn(@TempDir Path tmp) throws IOException {
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("group", org.apache.spark.sql.types.DataTypes.IntegerType)
                .add("topic", org.apache.spark.sql.types.DataTypes.StringType)
                .add("q", org.apache.spark.sql.types.DataTypes.StringType)
                .add("a", org.apache.spark.sql.types.DataTypes.StringType);
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            rows.add(org.apache.spark.sql.RowFactory.create(i % 2, i % 3 == 0 ? "x" : "y", "question " + (i % 5) + "? ",
                    (i % 2 == 0 ? "even answer. " : "odd answer! ").repeat(3)));
        }
        Path parquet = tmp.resolve("qa.parquet");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(parquet.toString());
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli("train", "--model", model.toString(), "--data", parquet.toString(),
                "--format", "parquet", "--prompt-column", "q", "--completion-column", "a", "--partition-by", "group",
                "--steps", "3", "--batch", "2", "--seq", "32", "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode m = manifest(out);
        assertEquals(2, m.path("adapters").size());
        assertEquals("0", m.path("adapters").get(0).path("name").asText());
        assertEquals(15, m.path("adapters").get(0).path("rows").asLong());
        assertEquals("q", m.path("job").path("prompt_column").asText());

        Path evalOut = tmp.resolve("eval/matrix.json");
        CliTest.Run eval = CliTest.cli("eval", "--model", model.toString(), "--adapters", out.toString(),
                "--partition-by", "topic", "--out", evalOut.toString());
        assertEquals(0, eval.status(), eval.err());
        JsonNode matrix = JSON.readTree(evalOut.toFile());
        assertEquals("[\"x\",\"y\"]", matrix.path("columns").toString());
        assertEquals(3, matrix.path("rows").size()); // two adapters and the base
        for (JsonNode row : matrix.path("rows")) {
            assertEquals(2, row.path("loss").size());
            row.path("loss").forEach(v -> assertTrue(v.asDouble() > 0 && Double.isFinite(v.asDouble()), row.toString()));
        }
    }

    @Test
    void keysThatAreNotNamesStayInsideOut(@TempDir Path tmp) throws IOException {
        Path weird = tmp.resolve("weird.jsonl");
        List<String> lines = new ArrayList<>();
        String[] keys = {"../escape", "/etc", "", "grüße"};
        for (int i = 0; i < 12; i++) {
            for (int k = 0; k < keys.length; k++) {
                lines.add(JSON.writeValueAsString(java.util.Map.of("lang", keys[k], "text",
                        SENTENCES[k].repeat(3))));
            }
        }
        Files.write(weird, lines);
        Path out = tmp.resolve("out");
        CliTest.Run run = CliTest.cli("train", "--model", model.toString(), "--data", weird.toString(),
                "--partition-by", "lang", "--steps", "2", "--batch", "2", "--seq", "32", "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode m = manifest(out);
        Set<String> originals = new HashSet<>();
        for (JsonNode a : m.path("adapters")) {
            String name = a.path("name").asText();
            originals.add(a.path("key").asText());
            assertTrue(name.matches("[A-Za-z0-9][A-Za-z0-9._-]*"), name);
            Path dir = out.resolve("adapters").resolve(name).normalize();
            assertTrue(dir.startsWith(out.resolve("adapters")) && Files.isDirectory(dir), name);
        }
        assertEquals(Set.of(keys), originals);
        assertTrue(m.toString().contains("escape-"), m.toString());
        assertFalse(Files.exists(tmp.resolve("escape")));
        try (Stream<Path> all = Files.list(tmp)) {
            assertEquals(Set.of("weird.jsonl", "out"), all.map(p -> p.getFileName().toString())
                    .collect(java.util.stream.Collectors.toSet()));
        }
    }

    @Test
    void badInputFailsBeforeTrainingWithOneClearMessageAndNoOutput(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        assertError("Cannot train: --partition-by column 'country' is not in the data " + data
                + "; its columns are [lang, text]", train(out, "--partition-by", "country"));
        assertError("Cannot train: text column 'body' is not in the data " + data + "; its columns are [lang, text]"
                + " (use --text-column, or --prompt-column and --completion-column)",
                train(out, "--text-column", "body"));
        Path empty = tmp.resolve("empty.jsonl");
        Files.writeString(empty, "");
        assertError("Cannot train: the data " + empty + " has no rows", train(out, "--data", empty.toString()));
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"lang\": \"a\", \"text\": \"hello there\"}\n{\"lang\": \"a\", \"text\": oops}\n"
                + "{\"lang\": \"b\", \"text\": \"x\"}\n");
        assertError("Cannot read data file://" + bad + ": line 2 is not valid JSON ({\"lang\": \"a\", \"text\": oops});"
                + " fix it or pass --skip-malformed to drop such lines", train(out, "--data", bad.toString()));
        assertError("Cannot load base model " + tmp.resolve("nope") + ": no such directory",
                train(out, "--model", tmp.resolve("nope").toString()));
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        assertError("Cannot write to output " + file + ": it is a file", train(file));
        assertFalse(Files.exists(out), "no output on bad input");

        // --skip-malformed: the bad line is counted; key b's only row is one token, so b is skipped with a reason.
        CliTest.Run run = CliTest.cli("train", "--model", model.toString(), "--data", bad.toString(),
                "--partition-by", "lang", "--steps", "2", "--batch", "1", "--seq", "4", "--held-out", "0",
                "--skip-malformed", "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("Skipped 1 malformed line(s)"), run.out());
        assertTrue(run.out().contains("Skipping key b: all 1 rows are shorter than 2 tokens"), run.out());
        JsonNode m = manifest(out);
        assertEquals(1, m.path("malformed_rows_skipped").asLong());
        assertEquals(1, m.path("adapters").size());
        assertEquals("b", m.path("skipped").get(0).path("key").asText());
        assertEquals("all 1 rows are shorter than 2 tokens", m.path("skipped").get(0).path("reason").asText());
    }

    private static void assertError(String message, String... args) {
        CliTest.Run run = CliTest.cli(args);
        assertEquals(1, run.status(), run.out());
        assertEquals("Error: " + message, run.err().strip());
    }

    private static Set<String> fieldNames(JsonNode o) {
        Set<String> s = new HashSet<>();
        o.fieldNames().forEachRemaining(s::add);
        return s;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
