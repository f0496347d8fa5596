package io.sparklora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.util.StrictJson;
import io.sparklora.util.Utf8;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Training rows read from one file (a local path or any Hadoop URI), for the commands that run in-process without
 * Spark ({@code pretrain}).
 * {@code text}: the whole file is one document (one row), so no context is lost at line breaks; {@code jsonl}: one JSON
 * object per non-blank line, its fields as columns (lines are numbered from 1 in errors).
 */
final class LocalRows {
    /** How a data file is read. */
    enum Format { text, jsonl }

    private LocalRows() {
    }

    /** The format named by the option, or guessed from the file name: {@code .jsonl}/{@code .json} → jsonl, else text. */
    static Format formatOf(String uri, Format given) {
        if (given != null) {
            return given;
        }
        String name = new org.apache.hadoop.fs.Path(uri).getName().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json") ? Format.jsonl : Format.text;
    }

    /** The rows of the file at {@code uri}, on any Hadoop file system: "Cannot read data URI: no such file". */
    static List<Map<String, Object>> read(String uri, Configuration conf, Format format) throws IOException {
        return parse(UriFiles.read(uri, conf, "data"), uri, format);
    }

    /** The rows of a data file's {@code bytes}; errors name the file {@code where}. */
    static List<Map<String, Object>> parse(byte[] bytes, String where, Format format) throws IOException {
        String content = Utf8.decode(bytes, where, "read data");
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
                    throw new IOException("Cannot read data " + where + ": line " + lineNo + " is not JSON ("
                            + e.getOriginalMessage() + ")", e);
                }
                if (!node.isObject()) {
                    throw new IOException("Cannot read data " + where + ": line " + lineNo + " is not a JSON object");
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
