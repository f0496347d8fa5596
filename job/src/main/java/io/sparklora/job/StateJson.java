package io.sparklora.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Typed reads of a checkpoint's {@code state.json} fields, each checked for its JSON type and range, so that a damaged
 * file fails with "Cannot load checkpoint DIR: state.json …" naming the field, never a NullPointerException from a
 * short loss-history entry or a step silently truncated from a long or a fraction.
 */
final class StateJson {
    private final JsonNode root;
    private final String where; // "Cannot load checkpoint <dir>"

    StateJson(JsonNode root, String where) {
        this.root = root;
        this.where = where;
    }

    String text(String field) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || !n.isTextual()) {
            throw fail("has no string '" + field + "'");
        }
        return n.textValue();
    }

    /** An integer field (any JSON integer in range; not 2.5, not "2"). */
    long longValue(JsonNode parent, String field) throws IOException {
        return integral(parent, field, false).longValue();
    }

    /** An integer field below 2^31 (a step, a cursor): never a long cast down. */
    int intValue(JsonNode parent, String field) throws IOException {
        return integral(parent, field, true).intValue();
    }

    private JsonNode integral(JsonNode parent, String field, boolean fitsInt) throws IOException {
        JsonNode n = parent.get(field);
        if (n == null || !n.isIntegralNumber() || !(fitsInt ? n.canConvertToInt() : n.canConvertToLong())) {
            throw fail("has no integer '" + field + "'" + (fitsInt ? " below 2^31" : ""));
        }
        return n;
    }

    /** The {@code data} object. */
    JsonNode object(String field) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || !n.isObject()) {
            throw fail("has no object '" + field + "'");
        }
        return n;
    }

    /** A list of distinct strings (the parameter names). */
    Set<String> names(String field) throws IOException {
        JsonNode n = list(field);
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode e : n) {
            if (!e.isTextual() || !out.add(e.textValue())) {
                throw fail("'" + field + "' holds " + e + ", not a distinct name");
            }
        }
        return out;
    }

    /** A loss history: a list of [step, loss, learning rate]. */
    List<LossPoint> history(String field) throws IOException {
        JsonNode n = list(field);
        List<LossPoint> out = new ArrayList<>();
        for (JsonNode p : n) {
            if (!p.isArray() || p.size() != 3 || !p.get(0).isIntegralNumber() || !p.get(0).canConvertToInt()
                    || !p.get(1).isNumber() || !p.get(2).isNumber()) {
                throw fail("'" + field + "' holds " + p + ", not [step, loss, learning_rate]");
            }
            out.add(new LossPoint(p.get(0).intValue(), p.get(1).doubleValue(), p.get(2).doubleValue()));
        }
        return out;
    }

    private JsonNode list(String field) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || !n.isArray()) {
            throw fail("has no list '" + field + "'");
        }
        return n;
    }

    private IOException fail(String problem) {
        return new IOException(where + ": " + TrainerCheckpoint.STATE + " " + problem);
    }
}
