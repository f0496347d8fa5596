package io.sparklora.storage;

import java.io.EOFException;
import java.nio.ByteBuffer;

/** Bytes held in memory: for tests, and for files fetched whole from remote storage. */
public final class ByteArraySource implements ByteSource {
    private final String name;
    private final byte[] bytes;

    /** Wraps {@code bytes} without copying; the caller must not change them afterwards. */
    public ByteArraySource(String name, byte[] bytes) {
        this.name = name;
        this.bytes = bytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws EOFException {
        int n = dst.remaining();
        if (position < 0 || position > bytes.length - (long) n) {
            throw new EOFException("Cannot read " + name + ": bytes " + position + ".." + (position + n)
                    + " lie outside its " + bytes.length + " bytes");
        }
        dst.put(bytes, (int) position, n);
    }

    @Override
    public void close() {
        // nothing to release
    }
}
