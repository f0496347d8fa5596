package io.sparklora.safetensors;

import io.sparklora.storage.ByteSource;
import io.sparklora.storage.LocalFileSource;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON header mapping names to {dtype, shape, data_offsets} plus an optional {@code __metadata__} string map,
 * then the data buffer. {@link #open} checks the whole header ({@link SafeTensorsHeader}) before anything is allocated
 * from it; tensors are then read on demand, in bulk chunks, converted to float32. Positional reads make concurrent
 * {@link #read} calls safe.
 */
public final class SafeTensorsReader implements TensorSource {
    /** The reference implementation's limit on the header (MAX_HEADER_SIZE). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final int CHUNK_BYTES = 1 << 24; // 16 MiB, a multiple of every element size

    private final ByteSource src;
    private final long dataStart; // 8 + header length: file position of data byte 0
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors; // header order

    private SafeTensorsReader(ByteSource src, long dataStart, Map<String, String> metadata,
                              Map<String, TensorInfo> tensors) {
        this.src = src;
        this.dataStart = dataStart;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    public static SafeTensorsReader open(Path file) throws IOException {
        LocalFileSource src;
        try {
            src = LocalFileSource.open(file);
        } catch (NoSuchFileException e) {
            throw new SafeTensorsException(file.toString(), "no such file", e);
        }
        return open(src);
    }

    /** Parses and checks the header of {@code src}; takes ownership (closes it on failure and on {@link #close}). */
    public static SafeTensorsReader open(ByteSource src) throws IOException {
        try {
            SafeTensorsHeader h = SafeTensorsHeader.parse(src);
            return new SafeTensorsReader(src, h.dataStart(), h.metadata(), h.tensors());
        } catch (IOException | RuntimeException e) {
            try {
                src.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public String name() {
        return src.name();
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return tensors.get(name);
    }

    @Override
    public Tensor read(String name) throws IOException {
        TensorInfo info = require(name);
        Tensor out = Tensor.zeros(info.shape());
        readChunks(info, ByteBuffer::allocateDirect,
                (chunk, count, first) -> Conversions.toFloats(info.dtype(), chunk, count, out.data(), first));
        return out;
    }

    @Override
    public float[] readFloats(String name) throws IOException {
        TensorInfo info = require(name);
        float[] out = new float[Tensor.checkedSize(info.shape())];
        java.nio.FloatBuffer dst = java.nio.FloatBuffer.wrap(out);
        // a heap chunk: nothing of this read stays off-heap
        readChunks(info, ByteBuffer::allocate,
                (chunk, count, first) -> Conversions.toFloats(info.dtype(), chunk, count, dst, first));
        return out;
    }

    @Override
    public long[] readLongs(String name) throws IOException {
        TensorInfo info = require(name);
        if (!info.dtype().isInteger()) {
            throw new SafeTensorsException(name(), "tensor '" + name + "' has dtype " + info.dtype()
                    + ", not an integer type");
        }
        long[] out = new long[Math.toIntExact(info.numel())];
        readChunks(info, ByteBuffer::allocateDirect,
                (chunk, count, first) -> Conversions.toLongs(info.dtype(), chunk, count, out, first));
        return out;
    }

    private TensorInfo require(String name) throws SafeTensorsException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafeTensorsException(name(), "no tensor named '" + name + "'");
        }
        return info;
    }

    private interface ChunkSink {
        void accept(ByteBuffer chunk, int count, int firstElement);
    }

    /** Streams the tensor's bytes through one direct buffer of at most CHUNK_BYTES. */
    private void readChunks(TensorInfo info, java.util.function.IntFunction<ByteBuffer> allocate, ChunkSink sink)
            throws IOException {
        long total = info.byteLength();
        if (total == 0) {
            return;
        }
        int elementBytes = info.dtype().byteSize();
        ByteBuffer chunk = allocate.apply((int) Math.min(total, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(total - done, chunk.capacity());
            chunk.clear().limit(n);
            src.readFully(dataStart + info.begin() + done, chunk);
            chunk.flip();
            sink.accept(chunk, n / elementBytes, (int) (done / elementBytes));
            done += n;
        }
    }

    @Override
    public void close() throws IOException {
        src.close();
    }
}
