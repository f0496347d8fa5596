package io.sparklora.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A local file read through a {@link FileChannel} with positional reads (thread-safe, no shared file pointer). */
public final class LocalFileSource implements ByteSource {
    private final Path path;
    private final FileChannel channel;

    private LocalFileSource(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    public static LocalFileSource open(Path path) throws IOException {
        return new LocalFileSource(path, FileChannel.open(path, StandardOpenOption.READ));
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, p);
            if (n < 0) {
                throw new EOFException("Cannot read " + path + ": end of file at byte " + p + ", "
                        + dst.remaining() + " more bytes wanted");
            }
            p += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
