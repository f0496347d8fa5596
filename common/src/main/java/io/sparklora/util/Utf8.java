package io.sparklora.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Strict UTF-8 reading of text files we parse: a malformed byte is an error naming the file, not a U+FFFD that
 * silently changes a token, a row or a key ({@code Files.readString} would fail without naming the file).
 */
public final class Utf8 {
    private Utf8() {
    }

    /** The text of {@code file}; "Cannot {@code action} FILE: not valid UTF-8" when it is not UTF-8. */
    public static String readFile(Path file, String action) throws IOException {
        return decode(Files.readAllBytes(file), file.toString(), action);
    }

    /** {@code bytes} as text; "Cannot {@code action} {@code where}: not valid UTF-8" when they are not UTF-8. */
    public static String decode(byte[] bytes, String where, String action) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException("Cannot " + action + " " + where + ": not valid UTF-8", e);
        }
    }
}
