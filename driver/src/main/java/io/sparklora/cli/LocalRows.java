package io.sparklora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.util.StrictJson;
import io.sparklora.util.Utf8;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training rows read from one local file, for the commands that run in-process without Spark ({@code pretrain}).
 * {@code text}: the whole file is one document (one row), so no context is lost at line breaks; {@code jsonl}: one JSON
 * object per non-blank line, its fields as columns (lines are numbered from 1 in errors).
 */
final class LocalRows {
    /** How a data file is read. */
    enum Format { text, jsonl }

    private LocalRows() {
    }

    /** The format named by the option, or guessed from the file name: {@code .jsonl}/{@code .json} → jsonl, else text. */
    static Format formatOf(Path file, Format given) {
        if (given != null) {
            return given;
        }
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json") ? Format.jsonl : Format.text;
    }

    static List<Map<String, Object>> read(Path file, Format format) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read data " + file + ": no such file");
        }
        String content = Utf8.readFile(file, "read data");
        if (format == Format.text) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("text", content);
            return List.of(row);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new java.io.StringReader(content))) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = StrictJson.MAPPER.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IOException("Cannot read data " + file + ": line " + lineNo + " is not JSON ("
                            + e.getOriginalMessage() + ")", e);
                }
                if (!node.isObject()) {
                    throw new IOException("Cannot read data " + file + ": line " + lineNo + " is not a JSON object");
                }
                Map<String, Object> row = new LinkedHashMap<>();
                node.fields().forEachRemaining(e -> row.put(e.getKey(),
                        e.getValue().isNull() ? null : e.getValue().isTextual() ? e.getValue().asText()
                                : e.getValue().toString()));
                rows.add(row);
            }
        }
        return rows;
    }
}
