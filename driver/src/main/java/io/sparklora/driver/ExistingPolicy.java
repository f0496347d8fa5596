package io.sparklora.driver;

import java.util.Locale;

/**
 * What {@code train --existing} does with a committed adapter whose fingerprint (base model, settings, data) differs
 * from this run's. An adapter whose fingerprint matches is always kept, untouched.
 */
public enum ExistingPolicy {
    /** Retrain it and replace it atomically (the default: a daily run on grown data retrains the changed keys). */
    RETRAIN,
    /** Keep the old adapter; the manifest records the fingerprint that made it. */
    KEEP,
    /** Refuse the job before any training, naming the adapters and what changed. */
    FAIL;

    /** Parses {@code retrain}, {@code keep} or {@code fail}. */
    public static ExistingPolicy parse(String s) {
        for (ExistingPolicy p : values()) {
            if (p.name().toLowerCase(Locale.ROOT).equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("Invalid --existing " + s + ": must be retrain, keep or fail");
    }
}
