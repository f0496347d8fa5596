package io.sparklora.driver;

import java.io.Serializable;

/**
 * One adapter the job trains: its name, the key value it came from (null for a null key; the shard index for
 * {@code --shards}), and its partition index in the training stage.
 */
public record AdapterPlan(String name, String key, int index, long rows) implements Serializable {
}
