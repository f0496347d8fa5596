package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A process under DieWithParent runs its main class until its stdin reaches end-of-file, then exits with 3. */
class DieWithParentTest {
    /** A main that would outlive the test by far. */
    public static final class Sleep {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(120_000);
        }
    }

    @Test
    void exitsWhenStdinCloses() throws Exception {
        Path classes = Path.of(DieWithParentTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes.toString(), DieWithParent.class.getName(), Sleep.class.getName())
                .redirectErrorStream(true).start();
        try {
            assertEquals(false, p.waitFor(1, TimeUnit.SECONDS), "still running while its parent lives");
            p.getOutputStream().close(); // what the parent's death does to the child's stdin
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "exited after its stdin closed");
            assertEquals(3, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
