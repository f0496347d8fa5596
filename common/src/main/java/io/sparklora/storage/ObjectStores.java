package io.sparklora.storage;

import java.util.Locale;
import java.util.Set;

/**
 * The one list of URI schemes whose file systems are object stores: no atomic rename (a rename is a copy, then a
 * delete), no atomic create-if-absent, but each single PUT is atomic and, on current S3, strongly consistent. Commits
 * to such stores write files to their final names and a completion marker last instead of renaming a directory.
 */
public final class ObjectStores {
    private static final Set<String> SCHEMES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs", "abfs",
            "abfss", "wasb", "wasbs");

    private ObjectStores() {
    }

    /** True for the scheme of an object store (case-insensitive); false for file, hdfs, viewfs and the like. */
    public static boolean isObjectStore(String scheme) {
        return scheme != null && SCHEMES.contains(scheme.toLowerCase(Locale.ROOT));
    }
}
