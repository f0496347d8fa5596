package io.sparklora.job;

/**
 * Receives a report after every optimizer step, after that step's evaluation and checkpoint. An exception thrown here
 * stops the run (the state of the last checkpoint is what a restart continues from).
 */
@FunctionalInterface
public interface TrainProgress {
    TrainProgress NONE = report -> { };

    void onStep(StepReport report);

    /** Something the run decided that a person should read (a discarded checkpoint); ignored by default. */
    default void onNotice(String message) {
    }
}
