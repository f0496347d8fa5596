package io.sparklora.cluster;

import io.sparklora.cli.SparkLoraCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the CLI in this JVM as {@code spark-submit --conf k=v ... <command>} would: the Spark properties become system
 * properties for the duration of the run (a new SparkConf reads {@code spark.*} system properties), stdout and stderr
 * are captured and still echoed to the test log.
 */
final class CliCapture {
    record Run(int status, String out, String err) {
    }

    private CliCapture() {
    }

    static synchronized Run run(Map<String, String> sparkProperties, String... args) {
        Map<String, String> previous = new HashMap<>();
        sparkProperties.forEach((k, v) -> previous.put(k, System.setProperty(k, v)));
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(new Tee(out, oldOut), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Tee(err, oldErr), true, StandardCharsets.UTF_8));
            int status = SparkLoraCli.run(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            previous.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    /** Writes to a capture buffer and to the original stream. */
    private static final class Tee extends OutputStream {
        private final OutputStream capture;
        private final OutputStream echo;

        Tee(OutputStream capture, OutputStream echo) {
            this.capture = capture;
            this.echo = echo;
        }

        @Override
        public void write(int b) throws IOException {
            capture.write(b);
            echo.write(b);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            capture.write(buf, off, len);
            echo.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            capture.flush();
            echo.flush();
        }
    }
}
