package io.sparklora.output;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.sparklora.util.FormatVersion;
import io.sparklora.util.StrictJson;
import java.io.IOException;

/**
 * Reading and writing the typed JSON documents of a train output ({@link ManifestFile}, training.json): strict JSON
 * ({@link StrictJson}: a repeated key or trailing content is an error), then the checked format_version
 * ({@link FormatVersion}: missing, non-integer or newer is refused), then the typed fields — each failure one
 * IOException "Cannot read &lt;file&gt;: …". Written pretty-printed, Java null fields left out unless a field says
 * otherwise.
 */
public final class Documents {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);

    private Documents() {
    }

    /** {@code bytes} as a {@code type} document of format_version 1..{@code newest}, naming {@code where}. */
    public static <T> T read(byte[] bytes, String where, int newest, Class<T> type) throws IOException {
        JsonNode root = tree(bytes, where);
        FormatVersion.check(root, where, newest);
        try {
            return MAPPER.treeToValue(root, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            String detail = cause instanceof JsonProcessingException j ? j.getOriginalMessage() : cause.getMessage();
            throw new IOException("Cannot read " + where + ": " + detail + path(e), e);
        }
    }

    /** {@code bytes} as strict JSON, naming {@code where} when it is not. */
    public static JsonNode tree(byte[] bytes, String where) throws IOException {
        try {
            return StrictJson.MAPPER.readTree(bytes);
        } catch (IOException e) {
            String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new IOException("Cannot read " + where + ": not valid JSON (" + detail + ")", e);
        }
    }

    /** The document pretty-printed, as written to its file. */
    public static byte[] toJson(Object document) throws IOException {
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(document);
    }

    /**
     * The document pretty-printed as seen from {@code view}: fields of another {@link com.fasterxml.jackson
     * .annotation.JsonView} left out, fields without one always considered.
     */
    public static byte[] toJson(Object document, Class<?> view) throws IOException {
        return MAPPER.writerWithView(view).withDefaultPrettyPrinter().writeValueAsBytes(document);
    }

    /** A value of {@code type} from text this spark-lora wrote itself (a task's result to the driver). */
    public static <T> T fromText(String text, Class<T> type) throws IOException {
        return MAPPER.readValue(text, type);
    }

    /** A value as compact text (a task's result to the driver). */
    public static String toText(Object value) throws IOException {
        return MAPPER.writeValueAsString(value);
    }

    /** The document as a tree (for code that still prints or copies parts of it). */
    public static JsonNode toTree(Object document) {
        return MAPPER.valueToTree(document);
    }

    private static String path(Exception e) {
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder b = new StringBuilder(" (at ");
            for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : m.getPath()) {
                b.append(r.getFieldName() != null ? "/" + r.getFieldName() : "/" + r.getIndex());
            }
            return b.append(')').toString();
        }
        return "";
    }

    /** A loss that may be unmeasured: NaN in Java is {@code null} in the file. */
    static final class NanAsNull extends StdSerializer<Double> {
        NanAsNull() {
            super(Double.class);
        }

        @Override
        public void serialize(Double value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            if (value.isNaN()) {
                gen.writeNull();
            } else {
                gen.writeNumber(value);
            }
        }
    }

    /** The reverse of {@link NanAsNull}: {@code null} in the file is NaN; a field left out stays Java null. */
    static final class NullAsNan extends StdDeserializer<Double> {
        NullAsNan() {
            super(Double.class);
        }

        @Override
        public Double deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return ctxt.readValue(p, Double.class);
        }

        @Override
        public Double getNullValue(DeserializationContext ctxt) {
            return Double.NaN;
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return null;
        }
    }
}
