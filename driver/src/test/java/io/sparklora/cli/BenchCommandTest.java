package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The fused bench's option errors: one message naming the option, a non-zero exit, nothing measured. */
class BenchCommandTest {
    private static String refused(String... args) {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new SparkLoraCli());
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(out));
        int code = cli.execute(args);
        assertNotEquals(0, code);
        assertTrue(out.toString().isEmpty(), out.toString());
        return err.toString();
    }

    @Test
    void batchNeedsAdapters() {
        String err = refused("bench", "--batch", "2");
        assertTrue(err.contains("Cannot run bench: --batch is an option of the fused bench, expected --adapters K "
                + "with it"), err);
    }

    @Test
    void adaptersMustBePositiveAndOneThread() {
        String err = refused("bench", "--adapters", "0");
        assertTrue(err.contains("Cannot run bench: --adapters and --batch expect positive numbers, got 0 and null"),
                err);
        err = refused("bench", "--adapters", "2", "--threads", "2");
        assertTrue(err.contains("Cannot run bench: the fused bench measures one BLAS thread, got --threads 2"), err);
    }
}
