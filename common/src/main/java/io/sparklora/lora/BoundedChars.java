package io.sparklora.lora;

/**
 * A string as a {@link CharSequence} that counts the characters a regex engine reads from it and gives up past
 * {@link #MAX_READS}: {@code java.util.regex} has no timeout, but every step of its backtracking reads the input, so
 * bounding the reads bounds the time of a match against a pattern taken from a file. One instance per match; its
 * sub-sequences share the count.
 */
final class BoundedChars implements CharSequence {
    /** Module paths are under 100 characters; a sane pattern reads each a few times, not a million. */
    static final long MAX_READS = 1_000_000;

    private final String text;
    private final String regex; // for the message
    private final long[] reads; // shared with sub-sequences
    private final int offset;
    private final int length;

    BoundedChars(String text, String regex) {
        this(text, regex, new long[1], 0, text.length());
    }

    private BoundedChars(String text, String regex, long[] reads, int offset, int length) {
        this.text = text;
        this.regex = regex;
        this.reads = reads;
        this.offset = offset;
        this.length = length;
    }

    @Override
    public char charAt(int index) {
        if (++reads[0] > MAX_READS) {
            throw new IllegalArgumentException("Invalid pattern " + regex + ": matching it against " + text
                    + " takes more than " + MAX_READS + " steps (it backtracks exponentially); simplify it");
        }
        return text.charAt(offset + index);
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new BoundedChars(text, regex, reads, offset + start, end - start);
    }

    @Override
    public String toString() {
        return text.substring(offset, offset + length);
    }
}
