package io.sparklora.storage;

import java.io.IOException;

/**
 * Where a writer of a multi-file format (a PEFT adapter directory) puts its files, one whole file at a time, in the
 * order the format wants them to appear: a local directory ({@link AtomicFiles}), or a Hadoop file system directory in
 * the driver module. The writer never sees paths, so one serialization serves every store.
 */
@FunctionalInterface
public interface FileSink {
    /** Writes the whole file {@code fileName} (a plain name, no directories) from {@code content}. */
    void write(String fileName, AtomicFiles.Content content) throws IOException;
}
