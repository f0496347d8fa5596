package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.cli.ShippedTokenizers;
import io.sparklora.driver.TokenizerSpec;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.HfTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base with GPT-2's tokenizer.json trains prompt/completion adapters on a standalone cluster (two Workers, executors
 * as separate processes): the executors load the tokenizer (each logs it once) and tokenize the rows; the driver
 * builds no tokenizer at all. The packed token counts are those of the rows with their EOS.
 */
@Tag("slow")
class BpeStandaloneClusterTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    @Test
    void executorsTokenizeTheRowsTheDriverNone() throws Exception {
        Path model = tmp.resolve("model");
        CliCapture.Run init = CliCapture.run(Map.of(), "init-model", "--family", "qwen2", "--dim", "32", "--layers",
                "1", "--heads", "4", "--kv-heads", "2", "--ffn", "64", "--vocab", "50257", "--max-seq", "64",
                "--tie-embeddings", "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        ShippedTokenizers.install("gpt2", model);
        String[][] pairs = {{"Wie heißt die Hauptstadt?", " Berlin."}, {"What is the capital?", " Paris, of course."}};
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < 2; k++) {
                lines.add(new ObjectMapper().writeValueAsString(Map.of("k", "key" + k, "prompt", pairs[k][0] + " " + i,
                        "completion", pairs[k][1])));
            }
        }
        Path data = Files.write(tmp.resolve("rows.jsonl"), lines);
        Path out = tmp.resolve("out");
        int driverLoads = TokenizerSpec.loads();
        StandaloneCluster cluster = SharedCluster.get();
        List<Path> earlierLogs = cluster.executorLogs();
        CliCapture.Run run = CliCapture.run(cluster.sparkSettings(), "train", "--model", model.toString(),
                "--data", data.toString(), "--prompt-column", "prompt", "--completion-column", "completion",
                "--partition-by", "k", "--rank", "2", "--steps", "3", "--batch", "2", "--seq", "16", "--out",
                out.toString(), "--master", cluster.masterUrl());
        assertEquals(0, run.status(), run.err() + "\n" + cluster.logTails());
        assertEquals(driverLoads, TokenizerSpec.loads(), "the driver built no tokenizer");
        int executorsThatLoaded = 0;
        for (Path log : cluster.executorLogsAfter(earlierLogs)) {
            String text = Files.readString(log, StandardCharsets.ISO_8859_1);
            long loads = text.lines().filter(l -> l.contains("Loaded tokenizer.json (50257 ids")).count();
            assertTrue(loads <= 1, "one load per executor: " + log);
            executorsThatLoaded += (int) loads;
        }
        assertTrue(executorsThatLoaded >= 1, "an executor loaded the tokenizer\n" + cluster.logTails());
        try (HfTokenizer gpt2 = HfTokenizer.load(model.resolve("tokenizer.json"))) {
            for (int k = 0; k < 2; k++) {
                long tokens = 0;
                for (int i = 0; i < 16; i++) {
                    tokens += EncodedRow.promptCompletion(gpt2, pairs[k][0] + " " + i, pairs[k][1]).tokens().length;
                }
                JsonNode t = new ObjectMapper().readTree(out.resolve("adapters/key" + k + "/training.json").toFile());
                assertEquals(tokens, t.path("data").path("tokens").asLong(), t.toString());
            }
        }
    }
}
