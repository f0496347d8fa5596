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
    /** {@link Manifest.Status#TRAINED}, {@link Manifest.Status#EXISTING} (another attempt committed it first) or
     * {@link Manifest.Status#FAILED} (deterministically: NaN loss, data the packer refuses). */
    public String status;
    /** Why it failed; null otherwise. */
    public String reason;
    /** The checkpoint step this attempt started from (0 for a fresh start). */
    public int resumedFromStep;
    /** Task attempt number that produced this outcome. */
    public int attempt;
    /** A committed adapter's manifest entry ({@link CommittedEntry}) as JSON text; null otherwise. */
    public String entry;

    public AdapterOutcome() {
    }

    public AdapterOutcome(String name, String status, String reason, int resumedFromStep, int attempt) {
        this.name = name;
        this.status = status;
        this.reason = reason;
        this.resumedFromStep = resumedFromStep;
        this.attempt = attempt;
    }
}
