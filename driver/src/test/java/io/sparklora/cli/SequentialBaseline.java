package io.sparklora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Example;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.job.WindowPacker;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/** One adapter trained in this JVM without Spark, with the train test's settings: the wall-time baseline. */
final class SequentialBaseline {
    private SequentialBaseline() {
    }

    static void train(Path model, Path data, String key, Path out) throws IOException {
        train(model, data, key, out, 30);
    }

    static void train(Path model, Path data, String key, Path out, int steps) throws IOException {
        BaseModel base = Checkpoints.load(model);
        List<Example> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(data)) {
            JsonNode n = json.readTree(line);
            if (n.path("lang").asText().equals(key)) {
                rows.add(Example.text(n.path("text").asText()));
            }
        }
        LoraConfig lora = LoraConfig.defaults().withRank(4).withAlpha(16).withSeed(42)
                .withTargetModules(List.of(LoraConfig.ALL_LINEAR));
        TrainSpec spec = TrainSpec.lora(key, lora).steps(steps).batchSize(4).seqLen(32).learningRate(1e-2)
                .checkpointEvery(10).build();
        PackedData packed = new WindowPacker(new ByteTokenizer(), 32).pack(key, rows.iterator(), 0.1, 42);
        LoraAdapter adapter = LoraAdapter.initialize(lora, base.config());
        AdapterTrainer.lora(spec, base, adapter, packed)
                .checkpointTo(TrainerCheckpoint.at(out.resolve("ckpt").toUri(), new Configuration())).run();
        PeftAdapters.write(out.resolve("adapter"), adapter, model.toString());
    }
}
