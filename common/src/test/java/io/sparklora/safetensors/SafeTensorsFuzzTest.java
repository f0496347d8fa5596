package io.sparklora.safetensors;

import static io.sparklora.safetensors.SafeTensorsBytes.FILE;
import static io.sparklora.safetensors.SafeTensorsBytes.concat;
import static io.sparklora.safetensors.SafeTensorsBytes.le64;

import io.sparklora.fuzz.Fuzz;
import io.sparklora.storage.ByteArraySource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the safetensors reader (header, layout, dtype conversion) and the shard index over mutants of valid files:
 * every mutant opens and reads, or fails with a {@link SafeTensorsException} naming the file (see {@link Fuzz}).
 */
class SafeTensorsFuzzTest {
    private static final int DATA_BYTES = 48;
    private static final String INDEX = "dir/model.safetensors.index.json";

    /** Headers that each tile exactly {@link #DATA_BYTES} bytes of data. */
    private static List<byte[]> headers() {
        return List.of(
                utf8("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,6],\"data_offsets\":[0,48]}}"),
                utf8("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"BF16\",\"shape\":[4,2],"
                        + "\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[16,32]},"
                        + "\"s\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[32,48]}}"),
                utf8("{\"x\":{\"dtype\":\"U8\",\"shape\":[2,2,2],\"data_offsets\":[40,48]},\"e\":{\"dtype\":\"F64\","
                        + "\"shape\":[0,3],\"data_offsets\":[40,40]},\"y\":{\"dtype\":\"F8_E4M3\",\"shape\":[],"
                        + "\"data_offsets\":[39,40]},\"z\":{\"dtype\":\"I32\",\"shape\":[3,3],\"data_offsets\":[0,36]},"
                        + "\"q\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[36,39]}}"));
    }

    private static byte[] data() {
        byte[] d = new byte[DATA_BYTES];
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) (i * 37 + 11); // some NaN and subnormal patterns among the float16s
        }
        return d;
    }

    private static byte[] frame(byte[] header) {
        return concat(le64(header.length), header, data());
    }

    /** Opens the file and reads every tensor, as floats and (for integer types) as longs. */
    private static void readAll(SafeTensorsReader r) throws IOException {
        for (String name : r.names()) {
            r.read(name);
            if (r.info(name).dtype().isInteger()) {
                r.readLongs(name);
            }
        }
    }

    @Test
    void mutatedHeadersInAValidFrame() {
        Fuzz.run("safetensors-header", 25_000, headers(), true, FILE, input -> {
            try (SafeTensorsReader r = SafeTensorsReader.open(new ByteArraySource(FILE, frame(input)))) {
                readAll(r);
            }
        }, SafeTensorsException.class);
    }

    @Test
    void mutatedFiles() throws IOException {
        List<byte[]> files = new ArrayList<>();
        headers().forEach(h -> files.add(frame(h)));
        try (InputStream in = getClass().getResourceAsStream("/safetensors/reference.safetensors")) {
            files.add(in.readAllBytes());
        }
        Fuzz.run("safetensors-file", 12_000, files, false, FILE, input -> {
            try (SafeTensorsReader r = SafeTensorsReader.open(new ByteArraySource(FILE, input))) {
                readAll(r);
            }
        }, SafeTensorsException.class);
    }

    @Test
    void mutatedShardIndexes() {
        byte[] shard1 = frame(headers().get(0));
        byte[] shard2 = frame(headers().get(1));
        ShardedSafeTensors.ShardOpener opener = name -> switch (name) {
            case "one.safetensors" -> SafeTensorsReader.open(new ByteArraySource(name, shard1));
            case "two.safetensors" -> SafeTensorsReader.open(new ByteArraySource(name, shard2));
            default -> null;
        };
        List<byte[]> seeds = List.of(utf8("{\"metadata\":{\"total_size\":96},\"weight_map\":{\"a\":\"one.safetensors\","
                + "\"w\":\"two.safetensors\",\"b\":\"two.safetensors\",\"s\":\"two.safetensors\"}}"));
        Fuzz.run("safetensors-index", 5_000, seeds, true, INDEX, input -> {
            try (ShardedSafeTensors s = ShardedSafeTensors.open(INDEX, new String(input, StandardCharsets.UTF_8),
                    opener)) {
                for (String name : s.names()) {
                    s.read(name);
                }
            }
        }, SafeTensorsException.class);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
