package io.sparklora.safetensors;

import java.io.IOException;

/** A safetensors file (or shard index) that breaks the format: "Cannot read safetensors <file>: <problem>". */
public class SafeTensorsException extends IOException {
    public SafeTensorsException(String file, String problem) {
        super("Cannot read safetensors " + file + ": " + problem);
    }

    /** For subclasses whose message is not a format problem; {@code message} is the whole message. */
    protected SafeTensorsException(String message) {
        super(message);
    }

    public SafeTensorsException(String file, String problem, Throwable cause) {
        super("Cannot read safetensors " + file + ": " + problem, cause);
    }
}
