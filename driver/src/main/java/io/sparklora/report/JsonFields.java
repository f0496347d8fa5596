package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.sparklora.util.StrictJson;

/**
 * Field access for the JSON files a report reads that have no typed record yet: the eval matrix and a sweep's
 * {@code plane.json} (manifest.json and training.json are read by {@link io.sparklora.output.ManifestFile} and
 * {@link io.sparklora.output.TrainingFile}). Each field may be spelled in snake_case or camelCase, since their writers
 * serialised Java records both ways; a present field of the wrong type is an error naming the file and the field.
 */
final class JsonFields {
    private final JsonNode node;
    private final String source; // the file, for messages

    JsonFields(JsonNode node, String source) {
        this.node = node;
        this.source = source;
    }

    /** Parses a whole JSON document whose top level must be an object. */
    static JsonFields readObject(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read " + what + " " + file + ": no such file");
        }
        JsonNode root;
        try {
            root = StrictJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("Cannot read " + what + " " + file + ": not valid JSON (" + firstLine(e) + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException("Cannot read " + what + " " + file + ": the top level is not a JSON object");
        }
        return new JsonFields(root, what + " " + file);
    }

    JsonNode node() {
        return node;
    }

    String source() {
        return source;
    }

    /** The first present spelling of a field, or null. */
    JsonNode get(String... names) {
        for (String name : names) {
            JsonNode v = node.get(name);
            if (v != null && !v.isNull()) {
                return v;
            }
        }
        return null;
    }

    String text(String... names) throws IOException {
        JsonNode v = get(names);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw bad(names[0], "is not a string: " + v);
        }
        return v.asText();
    }

    /** A number, NaN when absent; "NaN" and "Infinity" strings are accepted since Jackson writes them for doubles. */
    double number(String... names) throws IOException {
        return asNumber(get(names), names[0]);
    }

    double asNumber(JsonNode v, String field) throws IOException {
        if (v == null || v.isNull()) {
            return Double.NaN;
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isTextual()) {
            switch (v.asText()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw bad(field, "is not a number: " + v);
    }

    /** A non-negative whole number, -1 when absent. */
    long count(String... names) throws IOException {
        JsonNode v = get(names);
        if (v == null) {
            return -1;
        }
        if (!v.canConvertToLong() || v.asLong() < 0 || (v.isFloatingPointNumber() && v.asDouble() != v.asLong())) {
            throw bad(names[0], "is not a non-negative whole number: " + v);
        }
        return v.asLong();
    }

    JsonNode array(String... names) throws IOException {
        JsonNode v = get(names);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw bad(names[0], "is not an array");
        }
        return v;
    }

    /** Refuses a file whose {@code format_version} is present and newer than this reader knows. */
    void checkFormatVersion(int supported) throws IOException {
        JsonNode v = get("format_version");
        if (v != null && (!v.canConvertToInt() || v.asInt() < 1 || v.asInt() > supported)) {
            throw bad("format_version", "is " + v + ": this spark-lora reads format " + supported);
        }
    }

    IOException bad(String field, String problem) {
        return new IOException("Cannot read " + source + ": field \"" + field + "\" " + problem);
    }

    private static String firstLine(IOException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
