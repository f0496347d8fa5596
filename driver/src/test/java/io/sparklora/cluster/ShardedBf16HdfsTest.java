package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.cli.ShippedTokenizers;
import io.sparklora.driver.ModelStore;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base that looks like a real one — Qwen2, BF16 on disk, in shards behind model.safetensors.index.json, GPT-2's
 * tokenizer.json beside it — read from {@code hdfs://} on a MiniDFSCluster: by the driver (the weights equal the local
 * read, bit for bit) and by every executor ({@code --base-on-executors}) while training on {@code local[2]}.
 */
@Tag("slow")
class ShardedBf16HdfsTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    @Test
    void shardedBf16BaseWithTokenizerTrainsFromHdfs() throws Exception {
        Path model = tmp.resolve("qwen2-bf16");
        CliCapture.Run init = CliCapture.run(Map.of(), "init-model", "--family", "qwen2", "--dim", "32", "--layers",
                "2", "--heads", "4", "--kv-heads", "2", "--ffn", "64", "--vocab", "50257", "--max-seq", "64",
                "--tie-embeddings", "--dtype", "bf16", "--shard-size", "16k", "--seed", "4", "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        ShippedTokenizers.install("gpt2", model);
        List<Path> files;
        try (Stream<Path> s = Files.list(model)) {
            files = s.sorted().toList();
        }
        assertTrue(files.stream().filter(f -> f.getFileName().toString().endsWith(".safetensors")).count() >= 3,
                "several shards: " + files);
        Path rows = tmp.resolve("rows.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            lines.add("{\"k\": \"a\", \"text\": \"Shards of bfloat16 weights on HDFS, row " + i + ".\"}");
            lines.add("{\"k\": \"b\", \"text\": \"Ein Tokenizer aus GPT-2 zerlegt Sätze, Zeile " + i + ".\"}");
        }
        Files.write(rows, lines);
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            URI modelUri = hdfs.uri("models/qwen2-bf16");
            for (Path f : files) {
                ClusterTrainTest.put(hdfs.uri("models/qwen2-bf16/" + f.getFileName()), hdfs.configuration(),
                        Files.readAllBytes(f));
            }
            BaseModel local = Checkpoints.load(model);
            BaseModel fromHdfs = ModelStore.load(modelUri.toString(), hdfs.configuration());
            assertEquals(local.config(), fromHdfs.config());
            local.weights().forEach((k, t) -> assertArrayEquals(t.toArray(), fromHdfs.weight(k).toArray(), k));

            URI dataUri = hdfs.uri("data/rows.jsonl");
            ClusterTrainTest.put(dataUri, hdfs.configuration(), Files.readAllBytes(rows));
            URI out = hdfs.uri("runs/bf16");
            CliCapture.Run run = CliCapture.run(Map.of("spark.hadoop.dfs.replication", "1"), "train", "--model",
                    modelUri.toString(), "--data", dataUri.toString(), "--partition-by", "k", "--targets",
                    "all-linear", "--rank", "2", "--steps", "4", "--batch", "2", "--seq", "16", "--out",
                    out.toString(), "--master", "local[2]", "--base-on-executors");
            assertEquals(0, run.status(), run.err());
            try (var fs = org.apache.hadoop.fs.FileSystem.newInstance(out, hdfs.configuration());
                    var in = fs.open(new org.apache.hadoop.fs.Path(out.toString() + "/manifest.json"))) {
                JsonNode m = new ObjectMapper().readTree(in);
                assertEquals(2, m.path("adapters").size(), m.toString());
                for (JsonNode a : m.path("adapters")) {
                    assertEquals("trained", a.path("status").asText(), a.toString());
                }
            }
        }
    }
}
