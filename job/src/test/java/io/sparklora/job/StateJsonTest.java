package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regressions the state.json fuzzer found: damaged fields of an intact checkpoint fail naming the field; and what
 * {@link CheckpointState} keeps of the field-by-field reader before it (a loss point of four numbers, the tensors file
 * checked before any other field).
 */
class StateJsonTest {
    @TempDir
    Path tmp;
    private int checkpoints;

    /** Saves a checkpoint, replaces {@code from} by {@code to} in its state.json, and loads it. */
    private String refusal(String from, String to) throws IOException {
        Path dir = tmp.resolve("ckpt" + checkpoints++);
        TrainerCheckpoint store = TrainerCheckpoint.at(dir.toUri(), new Configuration(), "t");
        Tensor a = Tensor.of(new float[] {1f, 2f}, 1, 2);
        store.save(new TrainerState("ad", 2, 10, "f", 2L, 7L, new BatchStream.Position(0, 1, 3L), Map.of("a", a),
                Map.of("a", a), Map.of("a", a), List.of(new LossPoint(1, 2.0, 1e-3)), List.of()));
        Path step = dir.resolve("step-00000002");
        Path state = step.resolve(TrainerCheckpoint.STATE);
        String json = Files.readString(state);
        assertEquals(1, json.split(java.util.regex.Pattern.quote(from), -1).length - 1, from);
        Files.writeString(state, json.replace(from, to));
        Files.deleteIfExists(step.resolve(".state.json.crc"));
        String where = "Cannot load checkpoint " + step.toUri().toString().replaceFirst("/$", "")
                .replaceFirst("^file:///", "file:/") + ": state.json ";
        String m = assertThrows(IOException.class, store::loadLatest).getMessage();
        return m.startsWith(where) ? m.substring(where.length()) : m;
    }

    /** A loss-history entry shorter than [step, loss, lr] was read with get(i) and threw a NullPointerException. */
    @Test
    void shortHistoryEntryIsNamed() throws IOException {
        assertEquals("'train_history' holds [1], not [step, loss, learning_rate]",
                refusal("[ 1, 2.0, 0.001 ]", "[ 1 ]"));
    }

    /** The old reader took exactly three numbers; Jackson's array binding skips extra ones unless told not to. */
    @Test
    void longHistoryEntryIsNamed() throws IOException {
        assertEquals("'train_history' holds [1,2.0,0.001,4], not [step, loss, learning_rate]",
                refusal("[ 1, 2.0, 0.001 ]", "[ 1, 2.0, 0.001, 4 ]"));
    }

    /**
     * A state.json whose tensors_bytes or tensors_sha256 is damaged cannot vouch for its tensors file: the checkpoint
     * is incomplete, passed over and deleted as before the record, not an error (the tensors file is checked first).
     */
    @Test
    void aDamagedTensorsFieldIsAnIncompleteCheckpoint() throws IOException {
        for (String to : List.of("\"tensors_sha256\" : 7, \"was\" : ", "\"was_sha256\" : ")) {
            Path dir = tmp.resolve("ckpt" + checkpoints++);
            TrainerCheckpoint store = TrainerCheckpoint.at(dir.toUri(), new Configuration(), "t");
            Tensor a = Tensor.of(new float[] {1f, 2f}, 1, 2);
            store.save(new TrainerState("ad", 2, 10, "f", 2L, 7L, new BatchStream.Position(0, 1, 3L), Map.of("a", a),
                    Map.of("a", a), Map.of("a", a), List.of(), List.of()));
            Path state = dir.resolve("step-00000002").resolve(TrainerCheckpoint.STATE);
            String json = Files.readString(state);
            Files.writeString(state, json.replace("\"tensors_sha256\" : ", to));
            Files.deleteIfExists(state.resolveSibling(".state.json.crc"));
            assertEquals(java.util.Optional.empty(), store.loadLatest(), to);
            assertEquals(false, Files.exists(state.getParent()), "an incomplete checkpoint is deleted");
        }
    }

    /** A step of 2^32 + 2 was cast to the int 2, and 2.5 to 2: a resume from the wrong step. */
    @Test
    void stepMustBeAnIntNotAFractionOrALong() throws IOException {
        assertEquals("has no integer 'step' below 2^31", refusal("\"step\" : 2,", "\"step\" : 4294967298,"));
        assertEquals("has no integer 'step' below 2^31", refusal("\"step\" : 2,", "\"step\" : 2.5,"));
    }

    @Test
    void parametersMustBeDistinctNames() throws IOException {
        assertEquals("'parameters' holds 7, not a distinct name", refusal("[ \"a\" ]", "[ 7 ]"));
    }

    /** A checkpoint of a later spark-lora is refused naming its state.json and the versions read, and kept. */
    @Test
    void aHigherFormatVersionIsNotResumedAndKept() throws IOException {
        Path dir = tmp.resolve("newer");
        TrainerCheckpoint store = TrainerCheckpoint.at(dir.toUri(), new Configuration(), "t");
        Tensor a = Tensor.of(new float[] {1f, 2f}, 1, 2);
        store.save(new TrainerState("ad", 2, 10, "f", 2L, 7L, new BatchStream.Position(0, 1, 3L), Map.of("a", a),
                Map.of("a", a), Map.of("a", a), List.of(new LossPoint(1, 2.0, 1e-3)), List.of()));
        Path state = dir.resolve("step-00000002").resolve(TrainerCheckpoint.STATE);
        String json = Files.readString(state);
        assertEquals(1, json.split("\"format_version\" : 1,", -1).length - 1, json);
        Files.writeString(state, json.replace("\"format_version\" : 1,", "\"format_version\" : 2,"));
        Files.deleteIfExists(state.resolveSibling(".state.json.crc"));
        assertEquals(java.util.Optional.empty(), store.loadLatest(), "a later version's checkpoint is not resumed");
        assertEquals(List.of("Passed over a checkpoint: Cannot read " + new org.apache.hadoop.fs.Path(state.toUri())
                + ": format_version 2 is newer than this spark-lora knows (written by a later version?); this "
                + "spark-lora reads format_version 1; it is kept, and not resumed"), store.notices());
        assertEquals(true, Files.exists(state), "a later version's checkpoint is not deleted");
    }
}
