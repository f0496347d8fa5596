package io.sparklora.infer;

import java.util.List;

/**
 * OpenAI's {@code stop}: generation ends before the first occurrence of any stop string in the generated text, which
 * is cut there. While streaming, text that might be the start of a stop string is held back until it is decided.
 */
public record StopStrings(List<String> stops) {
    public StopStrings {
        stops = List.copyOf(stops);
        for (String s : stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("Invalid stop string: must not be empty");
            }
        }
    }

    public static StopStrings none() {
        return new StopStrings(List.of());
    }

    /** The index of the earliest stop string in {@code text}, or -1. */
    public int firstMatch(String text) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /** How much of {@code text} (with no stop string in it) can be released: all but a suffix a stop could start. */
    public int releasable(String text) {
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return text.length() - hold;
    }
}
