package io.sparklora.lora;

import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's rules for which module paths a {@code LoraConfig} adapts and which pattern key applies to a path, so that a
 * config means here what it means in PEFT ({@code check_target_module_exists} and {@code get_pattern_key}).
 */
final class PeftMatch {
    private static final Pattern ANY_LAYER_INDEX = Pattern.compile(".*\\.[^.]*\\.(\\d+)\\..*");

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
        return Pattern.compile(regex).matcher(path).matches();
    }

    /**
     * The block index in {@code path} as PEFT finds it for {@code layers_to_transform}: the number after
     * {@code .<layersPattern>.}, or after any {@code .<name>.} when no pattern is set; -1 when there is none.
     */
    static int layerIndex(String path, String layersPattern) {
        Pattern p = layersPattern == null || layersPattern.isEmpty() ? ANY_LAYER_INDEX
                : Pattern.compile(".*\\." + layersPattern + "\\.(\\d+)\\..*");
        Matcher m = p.matcher(path);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * The first key (in map order) that matches the whole path or a dotted suffix of it, keys being regexes:
     * PEFT's {@code re.match(rf"(.*\.)?({key})$", path)}; null when none does.
     */
    static String patternKey(Collection<String> keys, String path) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(path).matches()) {
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
            try {
                Pattern.compile(regex);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("Invalid " + what + " " + regex + ": not a regular expression ("
                        + e.getDescription() + ")");
            }
        }
    }
}
