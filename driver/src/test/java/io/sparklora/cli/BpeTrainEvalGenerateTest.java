package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.RopeScaling;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Qwen3-shaped base with Qwen3's real tokenizer.json (151,669 ids) trains prompt/completion adapters on Spark
 * {@code local[2]} (Kryo, registration required), evaluates them, and generates with one: the rows carry the
 * tokenizer's EOS, so the adapter learns where its answer ends and {@code generate} stops there, its multi-byte
 * characters (an emoji over three byte-level tokens) decoded whole.
 */
class BpeTrainEvalGenerateTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, String[][]> PAIRS = Map.of(
            "de", new String[][] {{"Gruß auf Deutsch:", " Grüße aus Köln!"}, {"Zahlen:", " eins zwei drei"}},
            "zh", new String[][] {{"用中文问候:", " 你好，世界！🤗"}, {"数字:", " 一二三"}});
    static SparkSession spark;

    @TempDir
    static Path shared;
    static Path model;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        spark = KryoLocalSpark.start("local[2]", "BpeTrainEvalGenerateTest", 2);
        LlamaConfig qwen3 = new LlamaConfig(LlamaFamily.QWEN3, 151669, 64, 128, 1, 4, 2, 16, 128, 1e-6, 1e6, false,
                false, true, 0.2, RopeScaling.NONE, 0);
        model = shared.resolve("qwen3-tiny");
        Checkpoints.save(Checkpoints.random(qwen3, 3), model);
        ShippedTokenizers.install("qwen3", model);
        data = shared.resolve("pairs.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            for (Map.Entry<String, String[][]> e : PAIRS.entrySet()) {
                for (String[] pc : e.getValue()) {
                    lines.add(JSON.writeValueAsString(Map.of("lang", e.getKey(), "prompt", pc[0], "completion",
                            pc[1])));
                }
            }
        }
        Files.write(data, lines);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void trainEvalGenerateWithQwen3Tokenizer(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        CliTest.Run train = CliTest.cli("train", "--model", model.toString(), "--data", data.toString(),
                "--prompt-column", "prompt", "--completion-column", "completion", "--partition-by", "lang",
                "--targets", "all-linear", "--rank", "8", "--alpha", "16", "--steps", "60", "--batch", "4", "--seq",
                "32", "--lr", "2e-2", "--held-out", "0.2", "--out", out.toString());
        assertEquals(0, train.status(), train.err() + train.out());
        assertTrue(train.out().contains("Trained 2 adapter(s)"), train.out());

        // the packed token counts are those of the rows under the tokenizer's conventions: ids + EOS (no BOS)
        try (HfTokenizer tokenizer = HfTokenizer.load(model.resolve("tokenizer.json"))) {
            assertEquals(151645, tokenizer.specialTokens().eos(), "<|im_end|>");
            for (String lang : PAIRS.keySet()) {
                long tokens = 0;
                for (String[] pc : PAIRS.get(lang)) {
                    EncodedRow row = EncodedRow.promptCompletion(tokenizer, pc[0], pc[1]);
                    assertEquals(151645, row.tokens()[row.tokens().length - 1]);
                    tokens += 12L * row.tokens().length;
                }
                JsonNode t = JSON.readTree(out.resolve("adapters").resolve(lang).resolve("training.json").toFile());
                assertEquals(tokens, t.path("data").path("tokens").asLong(), lang + ": " + t);
                assertEquals("tokenizer.json + tokenizer_config.json", t.path("base_model").path("tokenizer")
                        .asText(), t.toString());
            }
        }

        Path evalOut = tmp.resolve("eval.json");
        CliTest.Run eval = CliTest.cli("eval", "--model", model.toString(), "--adapters", out.toString(), "--out",
                evalOut.toString());
        assertEquals(0, eval.status(), eval.err());
        JsonNode matrix = JSON.readTree(evalOut.toFile());
        List<String> columns = new ArrayList<>();
        matrix.path("columns").forEach(c -> columns.add(c.asText()));
        JsonNode rows = matrix.path("rows");
        JsonNode base = rows.get(rows.size() - 1);
        for (int r = 0; r < rows.size() - 1; r++) {
            int own = columns.indexOf(rows.get(r).path("adapter").asText());
            double ownLoss = rows.get(r).path("loss").get(own).asDouble();
            assertTrue(ownLoss < base.path("loss").get(own).asDouble() - 1, "adapter beats the base: " + matrix);
        }

        for (String lang : PAIRS.keySet()) {
            String[] pc = PAIRS.get(lang)[0];
            CliTest.Run gen = CliTest.cli("generate", "--model", model.toString(), "--adapter",
                    out.resolve("adapters").resolve(lang).toString(), "--prompt", pc[0], "--max-new-tokens", "20");
            assertEquals(0, gen.status(), gen.err());
            assertEquals(pc[1] + "\n", gen.out(), lang + ": stops at the learnt EOS, whole characters only");
            assertEquals("", gen.err(), "no context warning: generation ended at EOS");
        }
    }
}
