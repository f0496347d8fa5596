package io.sparklora.infer;

import io.sparklora.tokenizer.ByteTokenizer;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.tokenizer.Utf8StreamDecoder;
import java.util.Arrays;

/**
 * The text of generated tokens as it becomes final: byte-level ids through a streaming UTF-8 decoder (a character is
 * released when its bytes are complete), other tokenizers by decoding every id so far; text that could start a stop
 * string is held back, and a found stop string ends the stream, cut before it (OpenAI's {@code stop}).
 *
 * <p>Lifecycle: one per generated sequence; {@link #accept} per token, then {@link #finish} once.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final StopStrings stops;
    private final Utf8StreamDecoder bytes; // null unless byte-level
    private final StringBuilder text = new StringBuilder(); // decided text, a stop string already cut
    private int[] ids = new int[16];
    private int count;
    private int released;
    private boolean stopped;

    public TextStream(Tokenizer tokenizer, StopStrings stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        this.bytes = tokenizer instanceof ByteTokenizer ? new Utf8StreamDecoder() : null;
    }

    /** Adds a token; returns the text released by it (possibly empty). After a stop string, ignores tokens. */
    public String accept(int id) {
        if (stopped) {
            return "";
        }
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, 2 * count);
        }
        ids[count++] = id;
        if (bytes != null) {
            text.append(bytes.accept(id));
        } else {
            text.setLength(0);
            text.append(tokenizer.decode(Arrays.copyOf(ids, count)));
        }
        int cut = stops.firstMatch(text.toString());
        if (cut >= 0) {
            text.setLength(cut);
            stopped = true;
        }
        return release(stopped ? text.length() : Math.min(stops.releasable(text.toString()), complete()));
    }

    /**
     * The length of the text without trailing U+FFFD: a byte-level BPE token can end inside a character (an emoji's 4
     * bytes over 3 tokens), and decoding the ids so far then ends in a replacement character that the next token
     * completes; it is released only when generation ends with it.
     */
    private int complete() {
        int n = text.length();
        if (bytes != null) {
            return n;
        }
        while (n > released && text.charAt(n - 1) == '\uFFFD') {
            n--;
        }
        return n;
    }

    /** Whether a stop string was found (generation should end). */
    public boolean stopped() {
        return stopped;
    }

    /** The rest of the text once generation ended (held-back text, an incomplete character's replacement). */
    public String finish() {
        if (bytes != null && !stopped) {
            text.append(bytes.finish());
        }
        return release(text.length());
    }

    /** All text released so far. */
    public String text() {
        return text.substring(0, released);
    }

    private String release(int upTo) {
        if (upTo <= released) {
            return "";
        }
        String delta = text.substring(released, upTo);
        released = upTo;
        return delta;
    }
}
