package io.sparklora.driver;

import java.io.Serializable;

/**
 * One adapter the job trains: its name, the key value it came from (null for a null key; the shard index for
 * {@code --shards}), its partition index in the training stage, its row count, the tokens of its usable rows (what its
 * windows hold, {@link KeyWindows#spills}) and the order-independent digest of its rows ({@link DataDigest}), the data
 * part of its fingerprint.
 */
public record AdapterPlan(String name, String key, int index, long rows, long tokens, String dataDigest)
        implements Serializable {
    /** The same adapter at another partition index. */
    public AdapterPlan at(int newIndex) {
        return new AdapterPlan(name, key, newIndex, rows, tokens, dataDigest);
    }
}
