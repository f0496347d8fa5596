package io.sparklora.util;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * The checked {@code format_version} of the JSON files spark-lora writes and reads back ({@code manifest.json},
 * {@code training.json}, a checkpoint's {@code state.json}): a reader understands versions 1 to its newest, and any
 * other — a file of a newer spark-lora, a missing or non-integer field — fails with one message naming the file, the
 * version found and the versions understood.
 */
public final class FormatVersion {
    private FormatVersion() {
    }

    /** The file's format_version when it is one of 1..{@code newest}; else the IOException of {@link #refusal}. */
    public static int check(JsonNode root, String file, int newest) throws IOException {
        if (!understood(root, newest)) {
            throw new IOException(refusal(root, file, newest));
        }
        return root.get("format_version").intValue();
    }

    /** True when {@code root} is an object whose format_version is an integer from 1 to {@code newest}. */
    public static boolean understood(JsonNode root, int newest) {
        JsonNode v = root == null ? null : root.get("format_version");
        return v != null && v.isInt() && v.intValue() >= 1 && v.intValue() <= newest;
    }

    /** True when {@code root} names an integer format_version above {@code newest}: a newer spark-lora's file. */
    public static boolean newer(JsonNode root, int newest) {
        JsonNode v = root == null ? null : root.get("format_version");
        return v != null && v.canConvertToLong() && v.isIntegralNumber() && v.longValue() > newest;
    }

    /** "Cannot read <file>: format_version <v> …; this spark-lora reads format_version 1[ to n]". */
    public static String refusal(JsonNode root, String file, int newest) {
        String reads = "this spark-lora reads format_version " + (newest == 1 ? "1" : "1 to " + newest);
        JsonNode v = root == null || !root.isObject() ? null : root.get("format_version");
        if (v == null) {
            return "Cannot read " + file + ": it has no format_version; " + reads;
        }
        String found = "format_version " + v;
        return "Cannot read " + file + ": " + found + (newer(root, newest) ? " is newer than this spark-lora knows ("
                + "written by a later version?); " : " is not one it understands; ") + reads;
    }
}
