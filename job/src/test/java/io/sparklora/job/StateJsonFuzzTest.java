package io.sparklora.job;

import io.sparklora.fuzz.Fuzz;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes a trainer checkpoint's {@code state.json} beside its intact tensors file, through {@link
 * TrainerCheckpoint#loadLatest} as a retried task calls it: each mutant resumes, is passed over as incomplete (empty),
 * or fails with an IOException naming the checkpoint directory (see {@link Fuzz}).
 */
class StateJsonFuzzTest {
    @TempDir
    Path tmp;

    private static TrainerState state(List<LossPoint> history, List<LossPoint> heldOut) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("base_model.model.x.lora_A.weight", Tensor.of(new float[] {1.5f, -0f, 2f, 3e38f}, 2, 2));
        params.put("base_model.model.x.lora_B.weight", Tensor.of(new float[] {2f, 0.1f}, 2, 1));
        Map<String, Tensor> m = new LinkedHashMap<>();
        params.forEach((k, t) -> m.put(k, t.copy()));
        return new TrainerState("ad-1", 2, 100, "f00d", 4L, 0x8000_0000_0000_0001L,
                new BatchStream.Position(3, 5, -42L), params, m, m, history, heldOut);
    }

    @Test
    void mutatedStateJson() throws IOException {
        Path dir = tmp.resolve("ckpt");
        TrainerCheckpoint store = TrainerCheckpoint.at(dir.toUri(), new Configuration(), "fuzz");
        store.save(state(List.of(new LossPoint(1, 5.5, 1e-4), new LossPoint(2, 0.3, 2e-4)),
                List.of(new LossPoint(2, Math.PI, 2e-4))));
        Path step = dir.resolve("step-00000002");
        byte[] seed1 = Files.readAllBytes(step.resolve(TrainerCheckpoint.STATE));
        store.save(state(List.of(), List.of()));
        byte[] seed2 = Files.readAllBytes(step.resolve(TrainerCheckpoint.STATE));
        byte[] tensors = Files.readAllBytes(step.resolve(TrainerCheckpoint.TENSORS));
        Fuzz.run("state.json", 6_000, List.of(seed1, seed2), true, dir.toString(), input -> {
            Files.createDirectories(step);
            try (Stream<Path> crcs = Files.list(step)) { // checksums of earlier writes would refuse ours
                for (Path crc : crcs.filter(p -> p.getFileName().toString().endsWith(".crc")).toList()) {
                    Files.delete(crc);
                }
            }
            Files.write(step.resolve(TrainerCheckpoint.TENSORS), tensors);
            Files.write(step.resolve(TrainerCheckpoint.STATE), input);
            store.loadLatest();
        }, IOException.class);
    }
}
