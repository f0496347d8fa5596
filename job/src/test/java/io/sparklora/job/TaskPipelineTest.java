package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one Spark task does for one adapter, end to end without Spark: a model directory on disk, column-map rows,
 * pack, train with checkpoints on a Hadoop file system, write the PEFT adapter, read it back.
 */
class TaskPipelineTest {
    @Test
    void rowsToPeftAdapterThroughTheTrainer(@TempDir Path tmp) throws IOException {
        Path modelDir = tmp.resolve("model");
        Checkpoints.save(TrainerFixtures.tinyBase(), modelDir);
        BaseModel base = Checkpoints.load(modelDir);
        Tokenizer tokenizer = Tokenizers.forModel(modelDir); // no tokenizer.json: bytes
        List<Map<String, ?>> rows = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            rows.add(Map.of("prompt", "Q" + (i % 5) + ": ", "completion", "answer " + (i % 5) + "."));
        }
        LoraConfig lora = LoraConfig.defaults().withRank(4).withAlpha(8).withSeed(3);
        TrainSpec spec = TrainSpec.lora("qa", lora).steps(20).batchSize(2).seqLen(32).learningRate(1e-2)
                .checkpointEvery(5).build();
        PackedData data = new WindowPacker(tokenizer, spec.seqLen()).packRows(spec.adapterName(), rows.iterator(),
                "text", spec.heldOutFraction(), spec.seed());
        LoraAdapter adapter = LoraAdapter.initialize(lora, base.config());
        TrainerCheckpoint checkpoints = TrainerCheckpoint.at(tmp.resolve("ckpt/qa").toUri(), new Configuration());
        TrainResult result = AdapterTrainer.lora(spec, base, adapter, data).checkpointTo(checkpoints).run();

        // The q_proj/v_proj defaults of LLaMA, two layers: 4 tensors each of A and B.
        assertEquals(8, result.parameters().size());
        assertTrue(result.finalHeldOutLoss() < result.trainHistory().get(0).loss(),
                result.finalHeldOutLoss() + " vs first " + result.trainHistory().get(0).loss());
        assertEquals(20, checkpoints.loadLatest().orElseThrow().step());

        Path out = tmp.resolve("adapters/qa");
        PeftAdapters.write(out, adapter, modelDir.toString());
        LoraAdapter back = PeftAdapters.read(out, base.config());
        for (int i = 0; i < adapter.parameters().size(); i++) {
            assertEquals(adapter.parameters().get(i).name(), back.parameters().get(i).name());
            assertArrayEquals(adapter.parameters().get(i).value().toArray(), back.parameters().get(i).value().toArray());
        }
    }
}
