package io.sparklora.job;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * Packed windows spilled to a local file, for a key with more rows than a task's heap holds: written once as they
 * fill ({@link Writer}), then read back window by window in every pass over the data ({@link #view}). Our own format,
 * little-endian: the magic {@code SLWINDOW}, int32 format version ({@value #VERSION}), int32 seqLen, int64 window
 * count, then per window seqLen int32 inputs and seqLen int32 targets. Readers check the header against the file
 * size; nothing here is Java serialization.
 *
 * <p>Lifecycle: one task writes the file, opens it, trains from it and deletes it; reads are positional, so the views
 * may be read from several threads.
 */
public final class WindowFile implements Closeable {
    static final byte[] MAGIC = "SLWINDOW".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 24;
    private final Path path;
    private final FileChannel channel;
    private final int seqLen;
    private final int count;

    private WindowFile(Path path, FileChannel channel, int seqLen, int count) {
        this.path = path;
        this.channel = channel;
        this.seqLen = seqLen;
        this.count = count;
    }

    /** A new (or truncated) window file at {@code path} for windows of {@code seqLen} tokens. */
    public static Writer create(Path path, int seqLen) throws IOException {
        if (seqLen < 2) {
            throw new IllegalArgumentException("Invalid seqLen " + seqLen + ": must be >= 2");
        }
        return new Writer(path, seqLen);
    }

    /** Opens a file {@link Writer} wrote, checking its header against its size. */
    public static WindowFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = ch.size();
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            if (size < HEADER_BYTES || readFully(ch, h, 0) < HEADER_BYTES) {
                throw new IOException("Cannot read window file " + path + ": " + size + " bytes, shorter than the "
                        + HEADER_BYTES + "-byte header");
            }
            h.flip();
            byte[] magic = new byte[MAGIC.length];
            h.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException("Cannot read window file " + path + ": it does not start with SLWINDOW");
            }
            int version = h.getInt();
            int seqLen = h.getInt();
            long count = h.getLong();
            if (version != VERSION) {
                throw new IOException("Cannot read window file " + path + ": format version " + version
                        + ", expected " + VERSION);
            }
            if (seqLen < 2 || count < 0 || count > Integer.MAX_VALUE) {
                throw new IOException("Cannot read window file " + path + ": seqLen " + seqLen + " and count "
                        + count + " must be >= 2 and in [0, " + Integer.MAX_VALUE + "]");
            }
            long expected = HEADER_BYTES + count * 8L * seqLen;
            if (size != expected) {
                throw new IOException("Cannot read window file " + path + ": its header promises " + count
                        + " windows of " + seqLen + " tokens (" + expected + " bytes), the file has " + size);
            }
            return new WindowFile(path, ch, seqLen, (int) count);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public int seqLen() {
        return seqLen;
    }

    public int count() {
        return count;
    }

    /** Window {@code i}, read from the file now (a fresh copy). */
    public Window read(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("window " + i + " of " + count + " in " + path);
        }
        ByteBuffer b = ByteBuffer.allocate(8 * seqLen).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (readFully(channel, b, HEADER_BYTES + (long) i * 8 * seqLen) < b.capacity()) {
                throw new EOFException("Cannot read window " + i + " of " + path + ": the file is truncated");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        b.flip();
        IntBuffer ints = b.asIntBuffer();
        int[] inputs = new int[seqLen];
        int[] targets = new int[seqLen];
        ints.get(inputs);
        ints.get(targets);
        return new Window(inputs, targets);
    }

    /** The windows at {@code indices}, in that order, read from the file on each {@code get} (nothing is cached). */
    public List<Window> view(int[] indices) {
        int[] idx = indices.clone();
        for (int i : idx) {
            if (i < 0 || i >= count) {
                throw new IndexOutOfBoundsException("window " + i + " of " + count + " in " + path);
            }
        }
        return new View(this, idx);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static int readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            int n = ch.read(b, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /**
     * {@code parts} one after another as one immutable list, without copying them: a tree node trains on the windows
     * of several keys, each packed (and maybe spilled) on its own. {@link PackedData} keeps it as it is.
     */
    public static List<Window> concat(List<List<Window>> parts) {
        return new Joined(parts);
    }

    /** A list of windows {@link PackedData} keeps as it is: copying it would read a spill file into the heap. */
    interface Unbuffered {
    }

    /** An immutable list of some of a file's windows. */
    static final class View extends AbstractList<Window> implements RandomAccess, Unbuffered {
        private final WindowFile file;
        private final int[] indices; // (size) window numbers in the file

        View(WindowFile file, int[] indices) {
            this.file = file;
            this.indices = indices;
        }

        @Override
        public Window get(int i) {
            return file.read(indices[i]);
        }

        @Override
        public int size() {
            return indices.length;
        }
    }

    /** Lists of windows one after another; {@code get} finds its part by binary search over their offsets. */
    static final class Joined extends AbstractList<Window> implements RandomAccess, Unbuffered {
        private final List<List<Window>> parts;
        private final long[] starts; // (parts + 1) index of each part's first window; the last entry is the size

        Joined(List<List<Window>> parts) {
            this.parts = List.copyOf(parts);
            this.starts = new long[this.parts.size() + 1];
            for (int i = 0; i < this.parts.size(); i++) {
                starts[i + 1] = starts[i] + this.parts.get(i).size();
            }
            if (starts[this.parts.size()] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Cannot join " + starts[this.parts.size()] + " windows: at most "
                        + Integer.MAX_VALUE + " train one adapter");
            }
        }

        @Override
        public Window get(int i) {
            if (i < 0 || i >= size()) {
                throw new IndexOutOfBoundsException("window " + i + " of " + size());
            }
            int p = Arrays.binarySearch(starts, i);
            p = p >= 0 ? p : -p - 2; // the last part starting at or before i
            while (starts[p + 1] == starts[p]) { // skip empty parts starting at i
                p++;
            }
            return parts.get(p).get((int) (i - starts[p]));
        }

        @Override
        public int size() {
            return (int) starts[parts.size()];
        }
    }

    /** Appends windows of one seqLen; {@link #close} writes the count into the header. */
    public static final class Writer implements Closeable {
        private final Path path;
        private final FileChannel channel;
        private final int seqLen;
        private final ByteBuffer buffer; // little-endian, whole windows
        private long count;
        private boolean closed;

        private Writer(Path path, int seqLen) throws IOException {
            this.path = path;
            this.seqLen = seqLen;
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            int perWindow = 8 * seqLen;
            this.buffer = ByteBuffer.allocate(Math.max(1, (1 << 20) / perWindow) * perWindow)
                    .order(ByteOrder.LITTLE_ENDIAN);
            buffer.put(header(0));
        }

        private ByteBuffer header(long windows) {
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).putInt(VERSION).putInt(seqLen).putLong(windows);
            return h.flip();
        }

        public void append(Window w) throws IOException {
            if (w.seqLen() != seqLen) {
                throw new IllegalArgumentException("Cannot append to window file " + path + ": a window of "
                        + w.seqLen() + " tokens, the file's are " + seqLen);
            }
            if (count == Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Cannot append to window file " + path + ": it holds "
                        + Integer.MAX_VALUE + " windows, the most one adapter trains on");
            }
            if (buffer.remaining() < 8 * seqLen) {
                flush();
            }
            for (int v : w.inputs()) {
                buffer.putInt(v);
            }
            for (int v : w.targets()) {
                buffer.putInt(v);
            }
            count++;
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        public long count() {
            return count;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                flush();
                ByteBuffer h = header(count);
                while (h.hasRemaining()) {
                    channel.write(h, h.position());
                }
            } finally {
                channel.close();
            }
        }
    }
}
