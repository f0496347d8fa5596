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

/** The readers of training.json and of the eval matrix: the shapes they accept and the errors they give. */
class TrainingHistoryTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheNestedSnakeCaseShape() throws IOException {
        Path f = write("{\"adapter\": \"de\", \"rows\": 12, \"steps\": 3, \"loss_history\": {"
                + "\"train\": [{\"step\": 1, \"loss\": 3.0, \"learning_rate\": 0.01}, {\"step\": 2, \"loss\": 2.5},"
                + " {\"step\": 3, \"loss\": 2.0}], \"held_out\": [{\"step\": 3, \"loss\": 2.2}]},"
                + " \"timings\": {\"total_seconds\": 4.5}}");

        TrainingHistory r = TrainingHistory.read(f);

        assertEquals("de", r.name());
        assertEquals(12, r.rows());
        assertEquals(3, r.steps());
        assertEquals(List.of(new LossPoint(1, 3.0, 0.01), new LossPoint(2, 2.5, Double.NaN),
                new LossPoint(3, 2.0, Double.NaN)), r.trainHistory());
        assertEquals(2.0, r.finalTrainLoss(), "last training point when no final loss is written");
        assertEquals(2.2, r.finalHeldOutLoss());
        assertEquals(4.5, r.totalSeconds());
    }

    @Test
    void readsTrainResultFieldsInCamelCaseAndPairPoints() throws IOException {
        Path f = write("{\"adapterName\": \"x\", \"finalTrainLoss\": 1.5, \"finalHeldOutLoss\": \"NaN\","
                + " \"trainHistory\": [[1, 2.0], [2, 1.5]], \"heldOutHistory\": []}");

        TrainingHistory r = TrainingHistory.read(f);

        assertEquals("x", r.name());
        assertEquals(-1, r.rows());
        assertEquals(1.5, r.finalTrainLoss());
        assertTrue(Double.isNaN(r.finalHeldOutLoss()));
        assertTrue(Double.isNaN(r.totalSeconds()));
        assertEquals(2, r.trainHistory().size());
        assertTrue(r.heldOutHistory().isEmpty());
    }

    @Test
    void aNewerFormatIsRefused() throws IOException {
        Path f = write("{\"format_version\": 2}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read training record " + f + ": field \"format_version\" is 2: this spark-lora reads "
                + "format 1", e.getMessage());
    }

    @Test
    void stepsMustIncrease() throws IOException {
        Path f = write("{\"loss_history\": {\"train\": [{\"step\": 2, \"loss\": 1}, {\"step\": 2, \"loss\": 1}]}}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read training record " + f + ": field \"train[1]\" has step 2 after step 2: steps must"
                + " increase", e.getMessage());
    }

    @Test
    void aLossThatIsNotANumberIsNamed() throws IOException {
        Path f = write("{\"name\": null, \"loss_history\": {\"held_out\": [{\"step\": 1, \"loss\": true}]}}");

        IOException e = assertThrows(IOException.class, () -> TrainingHistory.read(f));

        assertEquals("Cannot read training record " + f + ": field \"loss\" is not a number: true", e.getMessage());
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
