package io.sparklora.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes float32 tensors as a safetensors file, stored as F32 or narrowed to BF16 or F16 (round to nearest even):
 * header entries and data in the map's order, {@code __metadata__} first when given, and the JSON header padded with spaces to a multiple of 8 bytes so the data buffer starts 8-aligned (as
 * the reference implementation pads it).
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_FLOATS = 1 << 20;

    private SafeTensorsWriter() {
    }

    /** Writes the file to {@code out} (not closed). {@code metadata} may be null or empty, then it is omitted. */
    public static void write(OutputStream out, Map<String, String> metadata, Map<String, Tensor> tensors)
            throws IOException {
        write(out, metadata, tensors, DType.F32);
    }

    /** As {@link #write(OutputStream, Map, Map)}, storing every tensor as {@code dtype} (F32, BF16 or F16). */
    public static void write(OutputStream out, Map<String, String> metadata, Map<String, Tensor> tensors, DType dtype)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("Cannot write safetensors as " + dtype + ": only F32, BF16 and F16");
        }
        byte[] header = header(metadata, tensors, dtype);
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        out.write(length.array());
        out.write(header);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        float[] floats = dtype == DType.F32 ? null : new float[CHUNK_FLOATS];
        for (Tensor t : tensors.values()) {
            for (int done = 0, n = t.size(); done < n; ) {
                int count = Math.min(n - done, CHUNK_FLOATS);
                if (dtype == DType.F32) {
                    chunk.asFloatBuffer().put(0, t.data(), done, count);
                } else {
                    t.data().get(done, floats, 0, count);
                    for (int i = 0; i < count; i++) {
                        float f = floats[i];
                        chunk.putShort(2 * i, dtype == DType.BF16 ? FloatNarrowing.toBf16(f) : FloatNarrowing.toF16(f));
                    }
                }
                out.write(chunk.array(), 0, count * dtype.byteSize());
                done += count;
            }
        }
    }

    /**
     * Writes the file atomically: into a temporary file in the same directory, then moved over {@code file}, so a
     * reader never sees a half-written checkpoint.
     */
    public static void write(Path file, Map<String, String> metadata, Map<String, Tensor> tensors) throws IOException {
        write(file, metadata, tensors, DType.F32);
    }

    /** Atomically, storing every tensor as {@code dtype}. */
    public static void write(Path file, Map<String, String> metadata, Map<String, Tensor> tensors, DType dtype)
            throws IOException {
        AtomicFiles.write(file, out -> write(out, metadata, tensors, dtype));
    }

    /** The JSON header, UTF-8, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, String> metadata, Map<String, Tensor> tensors) {
        return header(metadata, tensors, DType.F32);
    }

    static byte[] header(Map<String, String> metadata, Map<String, Tensor> tensors, DType dtype) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                throw new IllegalArgumentException("Cannot write safetensors: '__metadata__' is not a valid tensor name");
            }
            Tensor t = e.getValue();
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(t.shape()).forEach(shape::add);
            long end = offset + (long) t.size() * dtype.byteSize();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
