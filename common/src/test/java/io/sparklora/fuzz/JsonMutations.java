package io.sparklora.fuzz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Structural edits of a JSON document, the ones byte flips rarely reach: a value replaced by another type, by a number
 * at or past a type's range (2^63, 1e400, -1, 10^15), by a huge string or a deeply nested array; a field removed, a
 * key duplicated, a subtree copied elsewhere. Raw values (numbers Jackson would normalise, nesting deeper than it
 * writes, repeated keys) are placed as marker strings and substituted into the text afterwards.
 */
final class JsonMutations {
    private static final ObjectMapper LENIENT = new ObjectMapper();
    private static final String MARK = "@@fuzz@@";
    private static final String[] RAW = {"-1", "0", "1", "2", "64", "65536", "1000000", "2147483647", "-0.0", "0.5", "1e400", "-1e400", "1e-400", "2147483648",
        "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1000000000000000", "123456789012345678901234567890", "1.7976931348623157e308", "true", "false", "null",
        "\"\"", "\"-1\"", "\"NaN\"", "{}", "[]", "[null]", "[-1]", "[1e400]", "{\"\":null}",
        // regexes whose backtracking on a module path takes seconds to hours in java.util.regex, for fields read as
        // regexes (its memoisation defuses the classic (a+)+b, not counted repetition)
        "\"(.*.){12}x\"", "\"(.*){1,32000}[bc]\"", "[\"(.*.){12}x\"]", "{\"(.*.){12}x\":2}"};

    private final SplittableRandom random;

    JsonMutations(SplittableRandom random) {
        this.random = random;
    }

    /** A mutant of {@code text}, or null when it is not a JSON object or array. */
    byte[] mutate(String text) {
        JsonNode root;
        try {
            root = LENIENT.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
        if (!(root instanceof ContainerNode<?>) || root.isEmpty()) {
            return null;
        }
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode parent = containers.get(random.nextInt(containers.size()));
        if (parent.isEmpty()) {
            return null;
        }
        String raw = null;
        String duplicateOf = null;
        int op = random.nextInt(10);
        if (op == 0 && parent instanceof ObjectNode o) {
            o.remove(fieldName(o, random.nextInt(o.size())));
        } else if (op == 1 && parent instanceof ObjectNode o) {
            duplicateOf = fieldName(o, random.nextInt(o.size()));
            o.set(MARK, o.get(duplicateOf).deepCopy());
        } else if (op == 2) {
            JsonNode donor = containers.get(random.nextInt(containers.size()));
            replace(parent, donor.isEmpty() ? TextNode.valueOf("x") : donor.deepCopy());
        } else {
            raw = op == 3 ? deep() : op == 4 ? hugeString() : RAW[random.nextInt(RAW.length)];
            replace(parent, TextNode.valueOf(MARK));
        }
        String out;
        try {
            out = LENIENT.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            return null;
        }
        if (raw != null) {
            out = out.replace("\"" + MARK + "\"", raw);
        } else if (duplicateOf != null) {
            out = out.replace("\"" + MARK + "\"", TextNode.valueOf(duplicateOf).toString());
        }
        return out.getBytes(StandardCharsets.UTF_8);
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            n.forEach(c -> collect(c, out));
        }
    }

    private static String fieldName(ObjectNode o, int index) {
        Iterator<String> names = o.fieldNames();
        for (int i = 0; i < index; i++) {
            names.next();
        }
        return names.next();
    }

    /** Replaces one random child of {@code parent} (a non-empty container) by {@code value}. */
    private void replace(JsonNode parent, JsonNode value) {
        int i = random.nextInt(parent.size());
        if (parent instanceof ObjectNode o) {
            o.set(fieldName(o, i), value);
        } else {
            ((ArrayNode) parent).set(i, value);
        }
    }

    /** Arrays or objects nested 50 to 20,000 deep. */
    private String deep() {
        int depth = 50 + random.nextInt(20_000);
        boolean arrays = random.nextBoolean();
        StringBuilder s = new StringBuilder(depth * 6);
        s.append((arrays ? "[" : "{\"a\":").repeat(depth)).append('1').append((arrays ? "]" : "}").repeat(depth));
        return s.toString();
    }

    /** A string of 10k to 210k characters, sometimes non-ASCII. */
    private String hugeString() {
        String unit = random.nextBoolean() ? "a" : "é";
        return "\"" + unit.repeat(10_000 + random.nextInt(200_000)) + "\"";
    }
}
