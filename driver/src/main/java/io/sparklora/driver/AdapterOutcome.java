package io.sparklora.driver;

import java.io.Serializable;

/**
 * What a training task reports back to the driver; everything else about the adapter is in its training.json. A plain
 * class (not a record) because Kryo cannot set a record's fields.
 */
public final class AdapterOutcome implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The adapter. */
    public String name;
    /** True when this task trained and committed it; false when a complete copy was already there. */
    public boolean trained;
    /** The checkpoint step this attempt started from (0 for a fresh start). */
    public int resumedFromStep;
    /** Task attempt number that produced this outcome. */
    public int attempt;

    public AdapterOutcome() {
    }

    public AdapterOutcome(String name, boolean trained, int resumedFromStep, int attempt) {
        this.name = name;
        this.trained = trained;
        this.resumedFromStep = resumedFromStep;
        this.attempt = attempt;
    }
}
