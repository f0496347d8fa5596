package io.sparklora.cli;

import io.sparklora.fuzz.Fuzz;
import io.sparklora.job.WindowPacker;
import io.sparklora.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes JSONL training rows: {@link LocalRows} reads the file and {@link WindowPacker} turns its rows into windows,
 * as {@code pretrain} does. Each mutant packs, or fails with an IOException (the file) or IllegalArgumentException
 * (a row) naming the file (see {@link Fuzz}). One row is mutated structurally between intact ones, and whole files
 * byte by byte.
 */
class LocalRowsFuzzTest {
    private static final String BEFORE = "{\"lang\": \"en\", \"text\": \"first row of the file\"}\n";
    private static final String AFTER = "\n{\"prompt\": \"Q: 2+2?\", \"completion\": \" 4\"}\n";

    @TempDir
    Path tmp;

    private static List<byte[]> rows() throws IOException {
        List<byte[]> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(Path.of("..", "data", "demo", "fortunes.jsonl")).subList(0, 6);
        lines.forEach(l -> out.add(l.getBytes(StandardCharsets.UTF_8)));
        out.add("{\"prompt\": \"Translate: chat\", \"completion\": \" cat\", \"lang\": \"fr\"}".getBytes());
        out.add("{\"text\": \"héllo \\u00e9 \\ud83d\\ude00 tab\\there\", \"n\": 3, \"tags\": [1, null]}".getBytes());
        return out;
    }

    private void pack(Path file) throws IOException {
        List<Map<String, Object>> rows = LocalRows.parse(Files.readAllBytes(file), file.toString(),
                LocalRows.Format.jsonl);
        new WindowPacker(new ByteTokenizer(), 16).packRows(file.toString(), rows.iterator(), "text", 0.25, 3);
    }

    @Test
    void mutatedRowBetweenValidOnes() throws IOException {
        Path file = tmp.resolve("rows.jsonl");
        Fuzz.run("jsonl-row", 12_000, rows(), true, file.toString(), input -> {
            Files.write(file, concat(BEFORE.getBytes(StandardCharsets.UTF_8), input,
                    AFTER.getBytes(StandardCharsets.UTF_8)));
            pack(file);
        }, IOException.class, IllegalArgumentException.class);
    }

    @Test
    void mutatedFiles() throws IOException {
        Path file = tmp.resolve("file.jsonl");
        List<byte[]> files = List.of(String.join("\n", rows().stream()
                .map(b -> new String(b, StandardCharsets.UTF_8)).toList()).getBytes(StandardCharsets.UTF_8));
        Fuzz.run("jsonl-file", 6_000, files, false, file.toString(), input -> {
            Files.write(file, input);
            pack(file);
        }, IOException.class, IllegalArgumentException.class);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
