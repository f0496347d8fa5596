package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.Checkpoints;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-flight memory check of {@code train}: a batch whose activations cannot fit the executor memory (here: the
 * driver's, local mode) fails with exit 1 before any task starts and before anything is written, naming the
 * estimate's parts; the base model's share is the F32 tensor bytes of its {@code model.safetensors}.
 */
class MemoryPreflightTest {
    @TempDir
    static Path shared;

    @BeforeAll
    static void start() throws IOException {
        TrainRerunTest.setUp(shared);
    }

    @AfterAll
    static void stop() {
        TrainRerunTest.stop();
    }

    @Test
    void aJobThatCannotFitFailsBeforeAnyTaskWithTheNumbers(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out");
        long jobsBefore = TrainRerunTest.spark.sparkContext().statusTracker().getJobIdsForGroup("spark-lora-train").length;
        CliTest.Run run = CliTest.cli(TrainRerunTest.train(out, TrainRerunTest.data, "--batch", "100000"));
        assertEquals(1, run.status(), run.out() + run.err());
        String err = run.err().strip();
        assertTrue(err.startsWith("Error: Cannot train: an executor needs about "), err);
        assertTrue(err.contains(" (this driver JVM's JavaCPP limit (local mode)): base model "
                + mib(tensorBytes(TrainRerunTest.model.resolve(Checkpoints.SAFETENSORS))) + " (F32), and for each of 2 "
                + "concurrent task(s) activations "), err);
        assertTrue(err.endsWith("raise the limit, or lower --batch, --seq or --rank, or run fewer tasks per executor"),
                err);
        assertTrue(Files.notExists(out), "nothing written");
        assertEquals(jobsBefore, TrainRerunTest.spark.sparkContext().statusTracker().getJobIdsForGroup("spark-lora-train").length,
                "no Spark job ran");
    }

    /** The tensor bytes of a safetensors file: its size less the 8-byte length and the JSON header. */
    static long tensorBytes(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] len = new byte[8];
            f.readFully(len);
            return f.length() - 8 - ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
