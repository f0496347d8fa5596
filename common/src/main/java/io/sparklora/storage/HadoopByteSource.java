package io.sparklora.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A file on a Hadoop {@link FileSystem} ({@code file://}, {@code hdfs://}, {@code s3a://}) as a {@link ByteSource}.
 * Reads are positioned reads ({@code PositionedReadable}), which leave the stream's offset alone, so concurrent reads
 * are allowed.
 */
public final class HadoopByteSource implements ByteSource {
    private static final int CHUNK = 1 << 20;

    private final Path path;
    private final FSDataInputStream in;
    private final long size;

    private HadoopByteSource(Path path, FSDataInputStream in, long size) {
        this.path = path;
        this.in = in;
        this.size = size;
    }

    public static HadoopByteSource open(FileSystem fs, Path path) throws IOException {
        long size = fs.getFileStatus(path).getLen();
        return new HadoopByteSource(path, fs.open(path), size);
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        if (position < 0 || position + n > size) {
            throw new EOFException("Cannot read " + path + ": bytes " + position + ".." + (position + n)
                    + " lie outside the file of " + size + " bytes");
        }
        if (dst.hasArray()) {
            in.readFully(position, dst.array(), dst.arrayOffset() + dst.position(), n);
            dst.position(dst.limit());
            return;
        }
        byte[] chunk = new byte[Math.min(n, CHUNK)];
        for (long p = position; dst.hasRemaining(); ) {
            int len = Math.min(chunk.length, dst.remaining());
            in.readFully(p, chunk, 0, len);
            dst.put(chunk, 0, len);
            p += len;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
