package io.sparklora.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Random-access, read-only bytes: a local file, an in-memory array, or (later) a file on a Hadoop FileSystem. Readers
 * of checkpoint formats ask for exactly the ranges they have checked, so an implementation need not buffer.
 *
 * <p>{@link #readFully} uses absolute positions and does not change shared state, so implementations over files may
 * serve several threads at once.
 */
public interface ByteSource extends Closeable {
    /** What to call the source in error messages: a path or URI. */
    String name();

    /** Length in bytes. */
    long size() throws IOException;

    /**
     * Fills {@code dst} from its position to its limit with the bytes starting at {@code position}; fails with an
     * {@link java.io.EOFException} naming the source when the range ends past {@link #size()}.
     */
    void readFully(long position, ByteBuffer dst) throws IOException;

    @Override
    void close() throws IOException;
}
