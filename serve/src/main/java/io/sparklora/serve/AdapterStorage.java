package io.sparklora.serve;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.ModelConfig;
import java.io.IOException;
import java.util.List;

/**
 * Where a {@code train} output lives, seen by the adapter cache: a local directory here ({@link LocalAdapterStorage}),
 * or any Hadoop file system ({@code hdfs://}, {@code s3a://}) through the driver's storage code, which the CLI passes
 * in. Paths are relative to the output's root.
 */
public interface AdapterStorage {
    /** The root, for messages. */
    String name();

    /** The bytes of a file, or null when it does not exist. */
    byte[] readIfExists(String path) throws IOException;

    /**
     * A cheap token that changes when the file at {@code path} changes (size and modification time here), or null
     * when it does not exist. The default reads the file and hashes it (SHA-256), for storages that cannot stat.
     */
    default String version(String path) throws IOException {
        byte[] bytes = readIfExists(path);
        return bytes == null ? null : io.sparklora.util.Hashing.sha256(bytes);
    }

    /** Names of the sub-directories of {@code path} that hold an {@code adapter_config.json}; empty when none. */
    List<String> adapterDirs(String path) throws IOException;

    /** Reads and checks the PEFT adapter in directory {@code path} for {@code base}. */
    LoraAdapter readAdapter(String path, ModelConfig base) throws IOException;
}
