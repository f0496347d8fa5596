package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pretrain end to end: the loss falls, the checkpoint loads and scores better than the model it started from. */
class PretrainCommandTest {
    static final String CORPUS = "the cat sat on the mat. the dog sat on the log. ".repeat(24); // 1152 bytes

    @TempDir
    Path tmp;

    static Path initModel(Path dir, int maxSeq) {
        CliTest.Run init = cli("init-model", "--family", "llama", "--dim", "32", "--layers", "2", "--heads", "4",
                "--ffn", "64", "--vocab", "256", "--max-seq", Integer.toString(maxSeq), "--seed", "3", "--out",
                dir.toString());
        assertEquals(0, init.status(), init.err());
        return dir;
    }

    @Test
    void lossFallsAndTheCheckpointScoresLower() throws Exception {
        Path init = initModel(tmp.resolve("init"), 64);
        Path text = tmp.resolve("corpus.txt");
        Files.writeString(text, CORPUS);
        Path out = tmp.resolve("trained");
        CliTest.Run run = cli("pretrain", "--model", init.toString(), "--data", text.toString(), "--steps", "80",
                "--batch", "4", "--seq", "32", "--lr", "1e-2", "--warmup", "5", "--seed", "1", "--out",
                out.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("[pretrain] step 80/80 loss "), run.out());
        assertTrue(run.out().contains(" ETA "), run.out());
        assertTrue(Files.isRegularFile(out.resolve("config.json")));
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));

        JsonNode record = new ObjectMapper().readTree(out.resolve("training.json").toFile());
        assertEquals(80, record.get("steps").asInt());
        assertEquals(80, record.get("train_history").size());
        assertEquals(1, record.get("seed").asLong());
        assertEquals(32, record.get("train_spec").get("seq_len").asInt());
        assertEquals(1, record.get("format_version").asInt());
        assertEquals(64, record.get("base_model").get("sha256").asText().length());
        // 1152 bytes in windows of 32: 36 windows, 4 held out (10 %)
        assertEquals(32, record.get("data").get("train_windows").asInt());
        assertEquals(4, record.get("data").get("held_out_windows").asInt());
        double initial = record.get("base_held_out_loss").asDouble();
        double last = record.get("final_held_out_loss").asDouble();
        assertEquals(Math.log(256), initial, 0.1, "a fresh model is near uniform over 256 bytes");
        assertTrue(last < 1.0, "held-out loss after 80 steps on a two-sentence corpus: " + last);

        double before = score(init, text);
        double after = score(out, text);
        assertEquals(initial, before, 0.1);
        assertTrue(after < 1.0 && after < before - 4, before + " -> " + after);
    }

    static double score(Path model, Path text, String... adapter) throws Exception {
        String[] args = adapter.length == 0
                ? new String[] {"score", "--model", model.toString(), "--text-file", text.toString()}
                : new String[] {"score", "--model", model.toString(), "--adapter", adapter[0], "--text-file",
                        text.toString()};
        CliTest.Run run = cli(args);
        assertEquals(0, run.status(), run.err());
        return new ObjectMapper().readTree(run.out().strip()).get("mean_loss").asDouble();
    }

    @Test
    void jsonlRowsAndInputErrors() throws Exception {
        Path init = initModel(tmp.resolve("init"), 32);
        Path rows = tmp.resolve("rows.jsonl");
        Files.writeString(rows, "{\"body\": \"ab ab ab ab ab ab ab ab\"}\n\n{\"body\": \"cd cd cd cd cd cd cd\"}\n");
        CliTest.Run ok = cli("pretrain", "--model", init.toString(), "--data", rows.toString(), "--text-column",
                "body", "--epochs", "2", "--batch", "1", "--seq", "8", "--held-out", "0", "--out",
                tmp.resolve("j").toString());
        assertEquals(0, ok.status(), ok.err());
        JsonNode record = new ObjectMapper().readTree(tmp.resolve("j/training.json").toFile());
        assertEquals(2, record.get("data").get("rows").asInt());
        assertEquals("jsonl", record.get("data_source").get("format").asText());
        assertTrue(record.get("final_held_out_loss").isNull(), "nothing held out");

        CliTest.Run both = cli("pretrain", "--model", init.toString(), "--data", rows.toString(), "--steps", "3",
                "--epochs", "1", "--out", tmp.resolve("x").toString());
        assertEquals(2, both.status());
        assertTrue(both.err().contains("are mutually exclusive"), both.err());

        CliTest.Run noColumn = cli("pretrain", "--model", init.toString(), "--data", rows.toString(), "--seq", "8",
                "--out", tmp.resolve("x").toString());
        assertEquals(1, noColumn.status());
        assertTrue(noColumn.err().contains("row 1 has no column 'text'"), noColumn.err());

        Path badJson = tmp.resolve("bad.jsonl");
        Files.writeString(badJson, "{\"text\": \"fine text\"}\n{oops\n");
        CliTest.Run bad = cli("pretrain", "--model", init.toString(), "--data", badJson.toString(), "--out",
                tmp.resolve("x").toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("Cannot read data " + badJson + ": line 2 is not JSON"), bad.err());
        assertFalse(Files.exists(tmp.resolve("x")), "a failed run writes nothing");
    }
}
