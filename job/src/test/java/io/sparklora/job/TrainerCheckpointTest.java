package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerCheckpointTest {
    private static TrainerState state(int step) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("base_model.model.x.lora_A.weight", Tensor.of(new float[] {1.5f, -0f, Float.MIN_VALUE, 3e38f}, 2, 2));
        params.put("base_model.model.x.lora_B.weight", Tensor.of(new float[] {step, 0.1f}, 2, 1));
        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, Tensor> v = new LinkedHashMap<>();
        params.forEach((k, t) -> {
            Tensor mt = t.copy();
            mt.fill(0.25f);
            m.put(k, mt);
            Tensor vt = t.copy();
            vt.fill(1e-9f);
            v.put(k, vt);
        });
        return new TrainerState("ad-1", step, 100, "f00d", step * 2L, 0x8000_0000_0000_0001L,
                new BatchStream.Position(3, 5, -42L), params, m, v,
                List.of(new LossPoint(1, 5.545177444479562, 1e-4), new LossPoint(2, 0.1 + 0.2, 2e-4)),
                List.of(new LossPoint(2, Math.PI, 2e-4)));
    }

    private static TrainerCheckpoint store(Path dir) throws IOException {
        return TrainerCheckpoint.at(dir.toUri(), new Configuration());
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void savedStateLoadsBackExactly(@TempDir Path dir) throws IOException {
        TrainerState s = state(4);
        store(dir).save(s);
        TrainerState r = store(dir).loadLatest().orElseThrow();
        assertEquals(s.adapterName(), r.adapterName());
        assertEquals(4, r.step());
        assertEquals(100, r.totalSteps());
        assertEquals("f00d", r.runFingerprint());
        assertEquals(8L, r.adamStep());
        assertEquals(0x8000_0000_0000_0001L, r.dropoutRngState());
        assertEquals(new BatchStream.Position(3, 5, -42L), r.data());
        assertEquals(s.trainHistory(), r.trainHistory());
        assertEquals(s.heldOutHistory(), r.heldOutHistory());
        assertEquals(List.copyOf(s.parameters().keySet()), List.copyOf(r.parameters().keySet()));
        for (String k : s.parameters().keySet()) {
            assertArrayEquals(s.parameters().get(k).toArray(), r.parameters().get(k).toArray(), k);
            assertArrayEquals(s.parameters().get(k).shape(), r.parameters().get(k).shape(), k);
            assertArrayEquals(s.adamM().get(k).toArray(), r.adamM().get(k).toArray(), k);
            assertArrayEquals(s.adamV().get(k).toArray(), r.adamV().get(k).toArray(), k);
        }
        String json = Files.readString(dir.resolve("step-00000004/state.json"));
        assertTrue(json.contains("\"format_version\" : 1"), json);
    }

    @Test
    void anEmptyDirectoryHasNoCheckpoint(@TempDir Path dir) throws IOException {
        assertEquals(Optional.empty(), store(dir.resolve("absent")).loadLatest());
        assertEquals(Optional.empty(), store(dir).loadLatest());
    }

    @Test
    void savingAStepDeletesOlderCheckpoints(@TempDir Path dir) throws IOException {
        store(dir).save(state(4));
        store(dir).save(state(8));
        assertEquals(List.of("step-00000008"), names(dir));
        assertEquals(8, store(dir).loadLatest().orElseThrow().step());
    }

    @Test
    void anAttemptDeletesOnlyItsOwnTemporaryLeftoversNeverAnotherLiveAttempts(@TempDir Path dir) throws IOException {
        TrainerCheckpoint.at(dir.toUri(), new Configuration(), "attempt0").save(state(4));
        Path own = Files.createDirectories(dir.resolve("_tmp-attempt1-1234"));
        Files.write(own.resolve(TrainerCheckpoint.TENSORS), new byte[] {1, 2, 3});
        Path other = Files.createDirectories(dir.resolve("_tmp-attempt2-5678")); // a speculative copy writing now
        Files.write(other.resolve(TrainerCheckpoint.TENSORS), new byte[] {4, 5});
        TrainerCheckpoint attempt1 = TrainerCheckpoint.at(dir.toUri(), new Configuration(), "attempt1");
        assertEquals(4, attempt1.loadLatest().orElseThrow().step());
        assertEquals(List.of("_tmp-attempt2-5678", "step-00000004"), names(dir));
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(other.resolve(TrainerCheckpoint.TENSORS)));

        attempt1.discard(); // a checkpoint this run cannot resume: the steps go, the other attempt's files stay
        assertEquals(List.of("_tmp-attempt2-5678"), names(dir));
        assertEquals(Optional.empty(), attempt1.loadLatest());
    }

    @Test
    void aHalfWrittenCheckpointIsRefusedAndTheOlderOneLoads(@TempDir Path dir) throws IOException {
        store(dir).save(state(4));
        Path backup = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-backup"));
        copyDir(dir.resolve("step-00000004"), backup);
        store(dir).save(state(8));
        copyDir(backup, dir.resolve("step-00000004"));
        // Cut the newest tensors file short, as a crash in the middle of a copy-based rename would.
        Path tensors = dir.resolve("step-00000008").resolve(TrainerCheckpoint.TENSORS);
        byte[] bytes = Files.readAllBytes(tensors);
        Files.write(tensors, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        TrainerState r = store(dir).loadLatest().orElseThrow();
        assertEquals(4, r.step());
        assertEquals(List.of("step-00000004"), names(dir), "the broken checkpoint is deleted");
    }

    @Test
    void checkpointsWithoutStateJsonOrWithAnotherFormatVersionAreRefused(@TempDir Path dir) throws IOException {
        store(dir).save(state(4));
        Path json = dir.resolve("step-00000004").resolve(TrainerCheckpoint.STATE);
        String text = Files.readString(json);
        Files.writeString(json, text.replace("\"format_version\" : 1", "\"format_version\" : 2"));
        assertEquals(Optional.empty(), store(dir).loadLatest());
        assertFalse(Files.exists(dir.resolve("step-00000004")));

        store(dir).save(state(6));
        Files.delete(dir.resolve("step-00000006").resolve(TrainerCheckpoint.STATE));
        assertEquals(Optional.empty(), store(dir).loadLatest());
    }

    @Test
    void aCorruptedByteWithTheRightLengthIsCaughtByTheHash(@TempDir Path dir) throws IOException {
        store(dir).save(state(4));
        Path tensors = dir.resolve("step-00000004").resolve(TrainerCheckpoint.TENSORS);
        byte[] bytes = Files.readAllBytes(tensors);
        bytes[bytes.length - 1] ^= 1;
        Files.write(tensors, bytes);
        assertEquals(Optional.empty(), store(dir).loadLatest());
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
