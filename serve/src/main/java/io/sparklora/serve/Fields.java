package io.sparklora.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed reads of optional JSON request fields; a wrong type or range is a 400 naming the field. */
final class Fields {
    private Fields() {
    }

    static String string(JsonNode body, String field, String fallback) throws ApiException {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw ApiException.invalid(field, field + " must be a string.");
        }
        return n.asText();
    }

    static int integer(JsonNode body, String field, int fallback, int min, int max) throws ApiException {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.invalid(field, field + " must be an integer.");
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw ApiException.invalid(field, field + " must be between " + min + " and " + max + ", got " + v + ".");
        }
        return (int) v;
    }

    static double number(JsonNode body, String field, double fallback, double min, double max)
            throws ApiException {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw ApiException.invalid(field, field + " must be a number.");
        }
        double v = n.asDouble();
        if (!(v >= min && v <= max)) {
            throw ApiException.invalid(field, field + " must be between " + min + " and " + max + ", got " + v + ".");
        }
        return v;
    }

    static boolean bool(JsonNode body, String field, boolean fallback) throws ApiException {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw ApiException.invalid(field, field + " must be a boolean.");
        }
        return n.asBoolean();
    }

    static List<String> stringOrList(JsonNode body, String field) throws ApiException {
        JsonNode n = body.get(field);
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) {
                    throw ApiException.invalid(field, field + " must be a string or a list of strings.");
                }
                out.add(e.asText());
            }
        } else {
            throw ApiException.invalid(field, field + " must be a string or a list of strings.");
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiException.invalid(field, field + " strings must not be empty.");
            }
        }
        return out;
    }

    /** A field we support only at one value (n = 1). */
    static void mustBe(JsonNode body, String field, int only) throws ApiException {
        JsonNode n = body.get(field);
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asLong() == only)) {
            throw ApiException.invalid(field, field + " must be " + only + " (other values are not supported).");
        }
    }

    static void mustBeZero(JsonNode body, String field) throws ApiException {
        JsonNode n = body.get(field);
        if (n != null && !n.isNull() && !(n.isNumber() && n.asDouble() == 0)) {
            throw ApiException.invalid(field, field + " is not supported (only 0).");
        }
    }
}
