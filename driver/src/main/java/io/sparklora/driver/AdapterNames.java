package io.sparklora.driver;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Adapter directory names from key values. A key that is already a plain name ({@code [A-Za-z0-9][A-Za-z0-9._-]*},
 * at most 100 characters) is used as is; any other key ({@code ../x}, {@code /etc}, empty, non-ASCII, null, too long)
 * is reduced to those characters and suffixed with 8 hex digits of the SHA-256 of the original, so it can never be a
 * path, never start with {@code .} or {@code _} (our own {@code _tmp-}/{@code _checkpoints}), and two keys that reduce
 * alike still differ. Names depend only on the key, never on the other keys, except for the (astronomically rare)
 * collision, which is broken by a 16-digit hash.
 */
public final class AdapterNames {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Pattern OTHER = Pattern.compile("[^A-Za-z0-9._-]+");
    static final String NULL_KEY = "null";

    private AdapterNames() {
    }

    /** The name of one key (null for a null key value). */
    public static String of(String key) {
        if (key != null && PLAIN.matcher(key).matches()) {
            return key;
        }
        String reduced = key == null ? NULL_KEY : OTHER.matcher(key).replaceAll("_");
        reduced = reduced.replaceFirst("^[._-]+", "");
        if (reduced.length() > 80) {
            reduced = reduced.substring(0, 80);
        }
        String hash = hash(key).substring(0, 8);
        return reduced.isEmpty() ? "key-" + hash : reduced + "-" + hash;
    }

    /** Names of all keys, unique, in the keys' order. */
    public static Map<String, String> of(List<String> keys) {
        Map<String, String> names = new LinkedHashMap<>();
        Map<String, List<String>> byName = new HashMap<>();
        for (String k : keys) {
            String n = of(k);
            names.put(k, n);
            byName.computeIfAbsent(n.toLowerCase(java.util.Locale.ROOT), x -> new ArrayList<>()).add(k);
        }
        for (List<String> same : byName.values()) {
            if (same.size() > 1) { // case-insensitive file systems would merge them: disambiguate all but the first
                for (String k : same.subList(1, same.size())) {
                    names.put(k, of(k).replaceFirst("-[0-9a-f]{8}$", "") + "-" + hash(k).substring(0, 16));
                }
            }
        }
        return names;
    }

    private static String hash(String key) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] bytes = key == null ? new byte[] {0} : ("k" + key).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(md.digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
