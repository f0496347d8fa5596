package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end, in process: exit codes, the one-line JSON of score, and errors that leave nothing behind. */
class CliTest {
    @TempDir
    Path tmp;

    /** Runs the CLI capturing stdout and stderr. */
    record Run(int status, String out, String err) {
    }

    static Run cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = SparkLoraCli.run(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void initModelThenScoreBothFamilies() throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog. ".repeat(8));
        for (String family : new String[] {"llama", "gpt2", "qwen2", "qwen3", "mistral"}) {
            Path model = tmp.resolve(family);
            Run init = cli("init-model", "--family", family, "--dim", "32", "--layers", "2", "--heads", "4",
                    "--ffn", "64", "--vocab", "256", "--max-seq", "64", "--seed", "7", "--out", model.toString());
            assertEquals(0, init.status(), init.err());
            assertTrue(Files.isRegularFile(model.resolve("config.json")));
            assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));

            Run score = cli("score", "--model", model.toString(), "--text-file", text.toString(), "--seq", "50");
            assertEquals(0, score.status(), score.err());
            String[] lines = score.out().strip().split("\n");
            assertEquals(1, lines.length, "score prints exactly one line: " + score.out());
            JsonNode json = new ObjectMapper().readTree(lines[0]);
            int n = "The quick brown fox jumps over the lazy dog. ".length() * 8; // 360 bytes
            // windows of 50: seven full windows (49 predictions each) and one of 10 (9 predictions)
            assertEquals(n / 50 * 49 + (n % 50 - 1), json.get("tokens_scored").asLong());
            double loss = json.get("mean_loss").asDouble();
            // a freshly initialised model predicts almost uniformly over 256 byte values
            assertEquals(Math.log(256), loss, 0.1, family);
            assertEquals(Math.exp(loss), json.get("perplexity").asDouble(), 1e-9 * Math.exp(loss));
        }
    }

    /** An adapter with non-zero B changes the score; the same adapter with B = 0 scores exactly as the base. */
    @Test
    void scoreWithAdapter() throws Exception {
        Path model = tmp.resolve("llama");
        assertEquals(0, cli("init-model", "--family", "llama", "--dim", "32", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ffn", "64", "--vocab", "256", "--max-seq", "64", "--out", model.toString())
                .status());
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "Ein kleiner Text, der bewertet wird. ".repeat(5));
        BaseModel base = Checkpoints.load(model);
        LoraAdapter zeroB = LoraAdapter.initialize(LoraConfig.defaults().withRank(4), base.config());
        PeftAdapters.write(tmp.resolve("zero"), zeroB, model.toString());
        LoraAdapter trained = LoraAdapter.initialize(LoraConfig.defaults().withRank(4), base.config());
        for (LoraModule m : trained.modules().values()) {
            Tensor b = m.loraB().value();
            for (int i = 0; i < b.size(); i++) {
                b.set(i, (float) Math.sin(i + 1) * 0.5f);
            }
        }
        PeftAdapters.write(tmp.resolve("trained"), trained, model.toString());

        double baseLoss = meanLoss(cli("score", "--model", model.toString(), "--text-file", text.toString()));
        double zeroLoss = meanLoss(cli("score", "--model", model.toString(), "--adapter",
                tmp.resolve("zero").toString(), "--text-file", text.toString()));
        double trainedLoss = meanLoss(cli("score", "--model", model.toString(), "--adapter",
                tmp.resolve("trained").toString(), "--text-file", text.toString()));
        assertEquals(baseLoss, zeroLoss, 0.0, "B = 0 scores exactly as the base");
        assertTrue(Math.abs(trainedLoss - baseLoss) > 1e-4, baseLoss + " vs " + trainedLoss);

        Run wrongBase = cli("score", "--model", model.toString(), "--adapter", tmp.resolve("absent").toString(),
                "--text-file", text.toString());
        assertEquals(1, wrongBase.status());
        assertTrue(wrongBase.err().contains("Cannot read adapter " + tmp.resolve("absent")), wrongBase.err());
    }

    private static double meanLoss(Run run) throws Exception {
        assertEquals(0, run.status(), run.err());
        return new ObjectMapper().readTree(run.out().strip()).get("mean_loss").asDouble();
    }

    /** A real-looking base: Qwen3 with an explicit head_dim, BF16 on disk in shards, read back and scored. */
    @Test
    void initModelBf16ShardedQwen3() throws Exception {
        Path model = tmp.resolve("qwen3");
        Run init = cli("init-model", "--family", "qwen3", "--dim", "32", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--head-dim", "16", "--ffn", "64", "--vocab", "256", "--max-seq", "64",
                "--tie-embeddings", "--dtype", "bf16", "--shard-size", "8k", "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        assertTrue(init.out().contains("Wrote qwen3 model ("), init.out());
        assertFalse(Files.exists(model.resolve("model.safetensors")));
        JsonNode index = new ObjectMapper().readTree(model.resolve("model.safetensors.index.json").toFile());
        assertTrue(index.get("weight_map").has("model.layers.1.self_attn.q_norm.weight"));
        JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
        assertEquals("Qwen3ForCausalLM", config.get("architectures").get(0).asText());
        assertEquals(16, config.get("head_dim").asInt());
        assertEquals("bfloat16", config.get("torch_dtype").asText());
        BaseModel base = Checkpoints.load(model);
        assertEquals(64, ((io.sparklora.model.LlamaConfig) base.config()).qDim());
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "Qwen3 liest seine Gewichte aus BF16-Shards. ".repeat(4));
        assertEquals(Math.log(256), meanLoss(cli("score", "--model", model.toString(), "--text-file",
                text.toString())), 0.1);
    }

    @Test
    void initModelRefusesNonEmptyOutputAndLeavesNothingOnBadConfig() throws Exception {
        Path model = tmp.resolve("m");
        Files.createDirectories(model);
        Files.writeString(model.resolve("keep.txt"), "x");
        Run taken = cli("init-model", "--family", "llama", "--dim", "32", "--layers", "1", "--heads", "4",
                "--ffn", "64", "--vocab", "256", "--max-seq", "16", "--out", model.toString());
        assertEquals(1, taken.status());
        assertTrue(taken.err().contains("Cannot write model to " + model + ": it exists and is not an empty directory"),
                taken.err());

        Path bad = tmp.resolve("bad");
        Run badKv = cli("init-model", "--family", "llama", "--dim", "32", "--layers", "1", "--heads", "4",
                "--kv-heads", "3", "--ffn", "64", "--vocab", "256", "--max-seq", "16", "--out", bad.toString());
        assertEquals(1, badKv.status());
        assertTrue(badKv.err().contains("Invalid num_key_value_heads 3: must divide num_attention_heads = 4"),
                badKv.err());
        assertFalse(Files.exists(bad));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temporary directory left behind");
        }
    }

    @Test
    void scoreReportsMissingInputsClearly() throws Exception {
        Path model = tmp.resolve("m");
        assertEquals(0, cli("init-model", "--family", "gpt2", "--dim", "16", "--layers", "1", "--heads", "2",
                "--ffn", "32", "--vocab", "256", "--max-seq", "32", "--out", model.toString()).status());
        Run noText = cli("score", "--model", model.toString(), "--text-file", tmp.resolve("nope.txt").toString());
        assertEquals(1, noText.status());
        assertTrue(noText.err().contains("Cannot read text file " + tmp.resolve("nope.txt") + ": no such file"),
                noText.err());

        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "hello world");
        Run badSeq = cli("score", "--model", model.toString(), "--text-file", text.toString(), "--seq", "33");
        assertEquals(1, badSeq.status());
        assertTrue(badSeq.err().contains("Invalid --seq 33: must be between 2 and the model's max positions 32"),
                badSeq.err());

        Run noModel = cli("score", "--model", tmp.resolve("absent").toString(), "--text-file", text.toString());
        assertEquals(1, noModel.status());
        assertTrue(noModel.err().contains(tmp.resolve("absent").toString()), noModel.err());

        Run usage = cli("score", "--model", model.toString());
        assertEquals(2, usage.status());
        assertNotEquals("", usage.err());
    }
}
