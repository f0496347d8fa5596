package io.sparklora.lora;

import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's rules for which module paths a {@code LoraConfig} adapts and which pattern key applies to a path, so that a
 * config means here what it means in PEFT ({@code check_target_module_exists} and {@code get_pattern_key}).
 *
 * <p>The regexes come from files ({@code adapter_config.json}, job files), so they are bounded: at most
 * {@link #MAX_REGEX_LENGTH} characters (Java compiles a long pattern in time that grows faster than its length), and
 * every match runs over a {@link BoundedChars} view of the path that gives up after {@link BoundedChars#MAX_READS}
 * character reads, so a pattern that backtracks exponentially ({@code (.*.*)*x}) fails with a message instead of
 * hanging the task.
 */
final class PeftMatch {
    /** Far above any PEFT pattern seen in the wild (a few dozen characters). */
    static final int MAX_REGEX_LENGTH = 1000;
    private static final String INDEX_GROUP = "sparkloraLayerIndex";
    private static final Pattern ANY_LAYER_INDEX = Pattern.compile(".*\\.[^.]*\\.(?<" + INDEX_GROUP + ">\\d+)\\..*");

    private PeftMatch() {
    }

    /**
     * Whether a list of target names selects {@code path}: an entry equal to the path, or a dotted suffix of it
     * ({@code q_proj} selects {@code model.layers.0.self_attn.q_proj}; {@code proj} does not).
     */
    static boolean listSelects(Collection<String> targets, String path) {
        if (targets.contains(path)) {
            return true;
        }
        for (String t : targets) {
            if (path.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }

    /** A regex {@code target_modules} string selects a path it matches in full ({@code re.fullmatch}). */
    static boolean regexSelects(String regex, String path) {
        return matches(Pattern.compile(regex), regex, path);
    }

    /**
     * The block index in {@code path} as PEFT finds it for {@code layers_to_transform}: the number after
     * {@code .<layersPattern>.}, or after any {@code .<name>.} when no pattern is set; -1 when there is none.
     */
    static int layerIndex(String path, String layersPattern) {
        Pattern p = layersPattern == null || layersPattern.isEmpty() ? ANY_LAYER_INDEX
                : Pattern.compile(layerIndexRegex(layersPattern));
        Matcher m = p.matcher(new BoundedChars(path, layersPattern));
        // a named group: the pattern's own groups must not shift which one holds the index
        return m.matches() ? Integer.parseInt(m.group(INDEX_GROUP)) : -1;
    }

    private static String layerIndexRegex(String layersPattern) {
        return ".*\\." + layersPattern + "\\.(?<" + INDEX_GROUP + ">\\d{1,9})\\..*";
    }

    /**
     * The first key (in map order) that matches the whole path or a dotted suffix of it, keys being regexes:
     * PEFT's {@code re.match(rf"(.*\.)?({key})$", path)}; null when none does.
     */
    static String patternKey(Collection<String> keys, String path) {
        for (String key : keys) {
            if (matches(Pattern.compile("(.*\\.)?(" + key + ")"), key, path)) {
                return key;
            }
        }
        return null;
    }

    /**
     * Checks that each regex compiles in Java (PEFT's are Python regexes; the common subset means the same).
     * {@code what} names the field in the message ({@code rankPattern key}).
     */
    static void checkRegexes(String what, Collection<String> regexes) {
        for (String regex : regexes) {
            if (regex.length() > MAX_REGEX_LENGTH) {
                throw new IllegalArgumentException("Invalid " + what + " " + regex.substring(0, 40) + "… ("
                        + regex.length() + " characters): a pattern may have at most " + MAX_REGEX_LENGTH);
            }
            try {
                Pattern.compile(what.equals("layersPattern") ? layerIndexRegex(regex) : regex);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("Invalid " + what + " " + regex + ": not a regular expression ("
                        + e.getDescription() + ")");
            }
        }
    }

    /** A full match of {@code path}, bounded (see the class comment); {@code regex} names the pattern in messages. */
    private static boolean matches(Pattern p, String regex, String path) {
        return p.matcher(new BoundedChars(path, regex)).matches();
    }
}
