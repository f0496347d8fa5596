package io.sparklora.driver;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault-injection hooks for tests, read from Spark conf properties that a user never sets ({@code
 * spark.sparklora.test.*}): they let a test fail, poison or slow down one adapter's task at a chosen step so that
 * retries, deterministic failures, killed executors and speculative copies can be exercised on a real cluster. All
 * null normally, and then every hook is a no-op. Each value is {@code <adapter>:<step>} (the slow-down:
 * {@code <adapter>:<step>:<millis>}, {@code *} for every adapter).
 *
 * @param failAtStep    {@value SparkTrainJob#FAIL_AT_STEP}: the first attempt of that adapter fails (an I/O error, so Spark
 *                      retries it) after that step
 * @param poisonAtStep  {@value SparkTrainJob#POISON_AT_STEP}: that adapter's weights become NaN after that step in
 *                      every attempt (a deterministic NaN loss)
 * @param slowAfterStep {@value SparkTrainJob#SLOW_AFTER_STEP}: the first attempt of that adapter sleeps that many
 *                      milliseconds after each step from that step on (a straggler, or time to kill a process between
 *                      two checkpoints); an interrupt ends the sleep and keeps the flag, so the trainer stops before
 *                      its next step
 */
public record TestHooks(String failAtStep, String poisonAtStep, String slowAfterStep) implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("io.sparklora.progress");
    public static final TestHooks NONE = new TestHooks(null, null, null);

    /** The hooks set on this Spark application (normally none). */
    public static TestHooks of(SparkSession spark) {
        return new TestHooks(spark.conf().get(SparkTrainJob.FAIL_AT_STEP, null),
                spark.conf().get(SparkTrainJob.POISON_AT_STEP, null),
                spark.conf().get(SparkTrainJob.SLOW_AFTER_STEP, null));
    }

    /**
     * Runs every hook that applies to {@code adapter} after its step {@code step}; {@code firstAttempt}: this is the
     * task's attempt 0 in the stage's attempt 0 (a stage re-run after a lost executor counts attempts from 0 again);
     * {@code weights} the tensors the poison hook fills with NaN (a LoRA adapter's, or a full fine-tune's every
     * weight).
     */
    void afterStep(String adapter, int step, boolean firstAttempt, Iterable<Tensor> weights) {
        if (firstAttempt && matches(failAtStep, adapter) && step == stepOf(failAtStep)) {
            throw new UncheckedIOException(new IOException("Injected transient failure of adapter " + adapter
                    + " after step " + step + " (attempt 0)"));
        }
        if (matches(poisonAtStep, adapter) && step == stepOf(poisonAtStep)) {
            weights.forEach(w -> w.fill(Float.NaN));
        }
        if (firstAttempt && matches(slowAfterStep, adapter) && step >= stepOf(slowAfterStep)) {
            long millis = Long.parseLong(slowAfterStep.substring(slowAfterStep.lastIndexOf(':') + 1));
            LOG.warn("Test hook: slowing adapter {} (attempt 0, pid {}) after step {} by {} ms", adapter,
                    ProcessHandle.current().pid(), step, millis);
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the trainer sees the flag and stops before its next step
            }
        }
    }

    private static boolean matches(String hook, String adapter) {
        if (hook == null) {
            return false;
        }
        String name = hook.substring(0, hook.indexOf(':'));
        return name.equals("*") || name.equals(adapter);
    }

    /** The trainable tensors of a LoRA adapter, for {@link #afterStep}. */
    static List<Tensor> weightsOf(LoraAdapter adapter) {
        return adapter.parameters().stream().map(p -> p.value()).toList();
    }

    /** The step of {@code <adapter>:<step>[:<millis>]}. */
    private static int stepOf(String hook) {
        String[] parts = hook.split(":");
        return Integer.parseInt(parts[1]);
    }
}
