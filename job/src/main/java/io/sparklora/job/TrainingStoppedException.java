package io.sparklora.job;

/**
 * The run was asked to stop (its Spark task was killed, its thread interrupted) and stopped before its next step. Not
 * a failure of the adapter: whoever asked to stop knows why; the last checkpoint is where a later attempt continues.
 */
public final class TrainingStoppedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingStoppedException(String message) {
        super(message);
    }
}
