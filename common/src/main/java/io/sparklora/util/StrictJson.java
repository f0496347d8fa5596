package io.sparklora.util;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON reader for files we check (safetensors headers, shard indexes, config.json): a repeated key is an error, not
 * "last one wins", and content after the top-level value is rejected.
 */
public final class StrictJson {
    private static final JsonFactory FACTORY =
            JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** For whole documents. Thread-safe once configured. */
    public static final ObjectMapper MAPPER = new ObjectMapper(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The codec for reading one value at a time from a streaming parser (trailing tokens are the caller's check). */
    public static final ObjectMapper STREAMING = new ObjectMapper(FACTORY);

    private StrictJson() {
    }
}
