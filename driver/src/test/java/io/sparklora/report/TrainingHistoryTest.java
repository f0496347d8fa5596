package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.job.LossPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's reading of training.json (through {@link io.sparklora.output.TrainingFile#read}: the driver's shape,
 * format_version checked) and of the eval matrix (no typed record yet): what they accept and the errors they give.
 */
class TrainingHistoryTest {
    @TempDir
    Path tmp;

    /** A training.json as the driver writes it, by hand: the values the report takes from it. */
    @Test
    void readsTheRecordTheDriverWrites() throws IOException {
        Path f = write("{\"format_version\": 1, \"adapter\": \"de\", \"key\": \"de\", \"lora\": null,"
                + " \"data\": {\"rows\": 12, \"tokens\": 300, \"target_tokens\": 290, \"train_windows\": 3,"
                + " \"held_out_windows\": 1}, \"steps\": 3, \"final_train_loss\": 2.0,"
                + " \"final_held_out_loss\": 2.2, \"base_held_out_loss\": 3.1,"
                + " \"train_history\": [[1, 3.0, 0.01], [2, 2.5, 0.02], [3, 2.0, 0.03]],"
                + " \"held_out_history\": [[3, 2.2, 0.03]],"
                + " \"timings\": {\"train_seconds\": 4.0, \"eval_seconds\": 0.5, \"checkpoint_seconds\": 0,"
                + " \"total_seconds\": 4.5, \"tokens_per_second\": 75}}");

        TrainingHistory r = TrainingHistory.read(f);

        assertEquals("de", r.name());
        assertEquals(12, r.rows());
        assertEquals(3, r.steps());
        assertEquals(List.of(new LossPoint(1, 3.0, 0.01), new LossPoint(2, 2.5, 0.02), new LossPoint(3, 2.0, 0.03)),
                r.trainHistory());
        assertEquals(List.of(new LossPoint(3, 2.2, 0.03)), r.heldOutHistory());
        assertEquals(2.0, r.finalTrainLoss());
        assertEquals(2.2, r.finalHeldOutLoss());
        assertEquals(3.1, r.baseHeldOutLoss());
        assertEquals(4.5, r.totalSeconds());
    }

    @Test
    void unmeasuredLossesAreNaNAndTheFinalLossFallsBackToTheHistory() throws IOException {
        Path f = write("{\"format_version\": 1, \"adapter\": \"x\", \"final_held_out_loss\": null,"
                + " \"base_held_out_loss\": null, \"train_history\": [[1, 2.0, 0.1], [2, 1.5, 0.1]],"
                + " \"held_out_history\": []}");

        TrainingHistory r = TrainingHistory.read(f);

        assertEquals(-1, r.rows());
        assertEquals(-1, r.steps());
        assertEquals(1.5, r.finalTrainLoss(), "last training point when no final loss is written");
        assertTrue(Double.isNaN(r.finalHeldOutLoss()));
        assertTrue(Double.isNaN(r.baseHeldOutLoss()));
        assertTrue(Double.isNaN(r.totalSeconds()));
        assertTrue(r.heldOutHistory().isEmpty());
    }

    @Test
    void aNewerFormatIsRefused() throws IOException {
        Path f = write("{\"format_version\": 2}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read " + f + ": format_version 2 is newer than this spark-lora knows (written by a later"
                + " version?); this spark-lora reads format_version 1", e.getMessage());
    }

    @Test
    void aRecordWithoutFormatVersionIsRefused() throws IOException {
        Path f = write("{\"adapter\": \"de\", \"steps\": 3, \"train_history\": [[1, 3.0, 0.01]]}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read " + f + ": it has no format_version; this spark-lora reads format_version 1",
                e.getMessage());
    }

    @Test
    void stepsMustIncrease() throws IOException {
        Path f = write("{\"format_version\": 1, \"train_history\": [[2, 1.0, 0.1], [2, 1.0, 0.1]]}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read " + f + ": train_history[1] has step 2 after step 2: expected increasing steps",
                e.getMessage());
    }

    @Test
    void aStepBelowOneIsRefused() throws IOException {
        Path f = write("{\"format_version\": 1, \"held_out_history\": [[0, 1.0, 0.1]]}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read " + f + ": held_out_history[0] has step 0: expected a step >= 1", e.getMessage());
    }

    @Test
    void aLossThatIsNotANumberIsNamed() throws IOException {
        Path f = write("{\"format_version\": 1, \"held_out_history\": [[1, \"low\", 0.1]]}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertTrue(e.getMessage().startsWith("Cannot read " + f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("from String \"low\""), e.getMessage());
        assertTrue(e.getMessage().endsWith("(at /held_out_history/0)"), e.getMessage());
    }

    @Test
    void evalMatrixRowsMayBeKeyedByPartition() throws IOException {
        Path f = write("{\"partitions\": [\"a\", \"b\"], \"rows\": ["
                + "{\"adapter\": \"base\", \"mean_loss\": {\"a\": 3.0, \"b\": {\"mean_loss\": 2.0, \"tokens\": 9}}},"
                + "{\"adapter\": \"a\", \"mean_loss\": {\"a\": 1.0}}]}");

        EvalMatrix m = EvalMatrix.read(f);

        assertEquals(List.of("base", "a"), m.models());
        assertArrayEquals(new double[] {3.0, 2.0}, m.meanLoss()[0]);
        assertEquals(1.0, m.loss(1, 0));
        assertTrue(Double.isNaN(m.loss(1, 1)), "an absent cell is NaN");
        assertEquals(1, m.bestModel(0));
        assertEquals(0, m.bestModel(1));
    }

    @Test
    void evalMatrixRefusesAnUnknownPartition() throws IOException {
        Path f = write("{\"partitions\": [\"a\"], \"rows\": [{\"model\": \"base\", \"mean_loss\": {\"z\": 1}}]}");

        IOException e = assertThrows(IOException.class, () -> EvalMatrix.read(f));

        assertEquals("Cannot read eval matrix " + f + ": field \"rows[0].loss\" names partition \"z\", which is"
                + " not in \"columns\"", e.getMessage());
    }

    private Path write(String json) throws IOException {
        Path f = tmp.resolve("f" + System.nanoTime() + ".json");
        Files.writeString(f, json);
        return f;
    }
}
