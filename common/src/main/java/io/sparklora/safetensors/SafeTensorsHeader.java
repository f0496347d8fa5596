package io.sparklora.safetensors;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import io.sparklora.storage.ByteSource;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checked header of a safetensors file. {@link #parse} validates everything before allocating anything sized by
 * the file: the header length against {@link SafeTensorsReader#MAX_HEADER_BYTES} and the file size, strict UTF-8 and
 * JSON (duplicate keys are errors), {@code __metadata__} as a string map, every entry's dtype, shape and byte length,
 * and that the entries, sorted by offset, tile the data buffer exactly — the rules of the reference Rust reader.
 *
 * @param dataStart file position of data byte 0 (8 + header length)
 * @param metadata  {@code __metadata__}, empty when absent
 * @param tensors   entries in header order
 */
record SafeTensorsHeader(long dataStart, Map<String, String> metadata, Map<String, TensorInfo> tensors) {
    private static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = StrictJson.STREAMING;

    /** Reads and checks the header of {@code src}; every violation is a {@link SafeTensorsException} naming it. */
    static SafeTensorsHeader parse(ByteSource src) throws IOException {
        String file = src.name();
        long size = src.size();
        if (size < 8) {
            throw new SafeTensorsException(file, "file is " + size + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        src.readFully(0, lengthBytes);
        long headerLength = lengthBytes.getLong(0); // unsigned on disk: negative means above 2^63
        if (headerLength < 0 || headerLength > SafeTensorsReader.MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + SafeTensorsReader.MAX_HEADER_BYTES + " bytes");
        }
        if (headerLength > size - 8) {
            throw new SafeTensorsException(file, "header length " + headerLength + " exceeds the file size " + size
                    + " (8 + header length must fit in the file)");
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        src.readFully(8, header);
        byte[] json = header.array();
        if (json.length == 0 || json[0] != '{') {
            throw new SafeTensorsException(file, "header does not start with '{'");
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        String text;
        try {
            // decode strictly ourselves: Jackson would guess UTF-16/32 from zero bytes in a corrupt header
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(file, "header is not valid UTF-8", e);
        }
        try (JsonParser p = JSON.getFactory().createParser(text)) {
            p.setCodec(JSON);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new SafeTensorsException(file, "header is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                JsonNode value = p.readValueAsTree();
                if (value == null) {
                    value = NullNode.getInstance();
                }
                if (key.equals(METADATA)) {
                    if (value.isNull()) {
                        continue; // the reference reader treats null like an absent map
                    }
                    metadata.putAll(parseMetadata(file, value));
                } else {
                    tensors.put(key, parseEntry(file, key, value));
                }
            }
            if (p.nextToken() != null) {
                throw new SafeTensorsException(file, "header has content after its JSON object");
            }
        } catch (JsonParseException e) {
            String m = e.getOriginalMessage();
            if (m.startsWith("Duplicate field")) {
                throw new SafeTensorsException(file, "duplicate key in the header: " + m, e);
            }
            throw new SafeTensorsException(file, "header is not valid JSON: " + m, e);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        checkLayout(file, tensors, dataSize);
        return new SafeTensorsHeader(dataStart, Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(tensors));
    }

    private static Map<String, String> parseMetadata(String file, JsonNode value) throws SafeTensorsException {
        if (!value.isObject()) {
            throw new SafeTensorsException(file, "__metadata__ must be an object of string values, got " + value);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsException(file, "__metadata__ value of '" + e.getKey()
                        + "' must be a string, got " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    private static TensorInfo parseEntry(String file, String name, JsonNode v) throws SafeTensorsException {
        String what = "tensor '" + name + "'";
        if (!v.isObject()) {
            throw new SafeTensorsException(file, what + " must be an object with dtype, shape and data_offsets, got "
                    + v);
        }
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new SafeTensorsException(file, what + " has no dtype string, got " + dt);
        }
        DType dtype;
        try {
            dtype = DType.parse(dt.textValue());
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, what + " has unknown dtype '" + dt.textValue() + "'");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new SafeTensorsException(file, what + " has no shape array, got " + sh);
        }
        long[] dims = new long[sh.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafeTensorsException(file, what + " has shape " + sh
                        + ": dimensions must be non-negative integers below 2^63");
            }
            dims[i] = d.longValue();
        }
        // before any check of the data or allocation: a tensor too big for one float32 buffer can never be loaded
        BigInteger f32Bytes = TensorInfo.f32Bytes(dims);
        if (f32Bytes.compareTo(BigInteger.valueOf(TensorInfo.MAX_F32_BYTES)) > 0) {
            throw new TensorTooLargeException(file, name, dims, f32Bytes);
        }
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) { // only reachable with another dimension 0
                throw new SafeTensorsException(file, what + " has shape " + sh
                        + ": dimensions must be below 2^31");
            }
            shape[i] = (int) dims[i];
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !isOffset(off.get(0)) || !isOffset(off.get(1))
                || off.get(1).longValue() < off.get(0).longValue()) {
            throw new SafeTensorsException(file, what + " has data_offsets " + off
                    + ": must be [begin, end] with integers 0 <= begin <= end");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, off.get(0).longValue(), off.get(1).longValue());
        long bytes = info.numel() * dtype.byteSize(); // numel <= 2^29: no overflow
        if (bytes != info.byteLength()) {
            throw new SafeTensorsException(file, what + " of dtype " + dtype + " and shape " + Arrays.toString(shape)
                    + " needs " + bytes + " bytes, but data_offsets " + off + " hold " + info.byteLength());
        }
        return info;
    }

    private static boolean isOffset(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0;
    }

    /** The entries, sorted by offset, must tile [0, dataSize) exactly. */
    private static void checkLayout(String file, Map<String, TensorInfo> tensors, long dataSize)
            throws SafeTensorsException {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (TensorInfo t : sorted) {
            if (t.end() > dataSize) {
                throw new SafeTensorsException(file, "tensor '" + t.name() + "' has data_offsets [" + t.begin() + ", "
                        + t.end() + "] past the end of the data buffer of " + dataSize + " bytes");
            }
        }
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < expected) {
                throw new SafeTensorsException(file, "tensor '" + t.name() + "' at data_offsets [" + t.begin() + ", "
                        + t.end() + "] overlaps tensor '" + previous.name() + "' at [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (t.begin() > expected) {
                throw new SafeTensorsException(file, "gap in the data buffer: bytes [" + expected + ", " + t.begin()
                        + ") before tensor '" + t.name() + "' belong to no tensor");
            }
            expected = t.end();
            previous = t;
        }
        if (expected != dataSize) {
            throw new SafeTensorsException(file, (dataSize - expected) + " trailing bytes after the last tensor: the "
                    + "data buffer is " + dataSize + " bytes, the tensors cover " + expected);
        }
    }
}
