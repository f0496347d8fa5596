package io.sparklora.job;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.FormatVersion;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A checkpoint's {@code state.json} as one typed document, its only spelling: everything of a {@link TrainerState}
 * but its tensors, plus the parameter names and the tensors file's length and SHA-256. {@link TrainerCheckpoint} is
 * its one writer ({@link #of}, {@link #toJson}) and its one reader ({@link #tree}, {@link #read}). The spelling is
 * the one checkpoints have had since format_version 1, byte for byte, so a checkpoint of an earlier release resumes.
 *
 * <p>Read strictly: no repeated key or trailing content ({@link StrictJson}), no coercion (a step of {@code 2.5},
 * {@code "2"} or {@code 2^32 + 2}, a name of {@code 7}), every field present; a damaged field is one IOException
 * "Cannot load checkpoint DIR: state.json …" naming the field. Unknown fields are ignored, as in {@code ManifestFile},
 * but a loss point is exactly three numbers ({@link Point#read}). {@link #tensorsFile} reads the two fields that say whether the checkpoint
 * is complete, so that {@link TrainerCheckpoint} checks the tensors file before it reads the rest.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"format_version", "adapter_name", "step", "total_steps", "run_fingerprint", "adam_step",
        "dropout_rng_state", "data", "parameters", "train_history", "held_out_history", "tensors_bytes",
        "tensors_sha256"})
record CheckpointState(
        @JsonProperty("format_version") Integer formatVersion,
        @JsonProperty("adapter_name") String adapterName,
        @JsonProperty("step") Integer step,
        @JsonProperty("total_steps") Integer totalSteps,
        @JsonProperty("run_fingerprint") String runFingerprint,
        @JsonProperty("adam_step") Long adamStep,
        @JsonProperty("dropout_rng_state") Long dropoutRngState,
        @JsonProperty("data") Data data,
        @JsonProperty("parameters") List<String> parameters,
        @JsonProperty("train_history") List<Point> trainHistory,
        @JsonProperty("held_out_history") List<Point> heldOutHistory,
        @JsonProperty("tensors_bytes") Long tensorsBytes,
        @JsonProperty("tensors_sha256") String tensorsSha256) {
    static final String FILE = "state.json";
    /** The newest format this spark-lora writes and reads. */
    static final int FORMAT_VERSION = 1;

    /** What each field must be, as the refusal of a damaged one says it ("has no integer 'step' below 2^31"). */
    private static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("format_version", "has no integer 'format_version'"),
            Map.entry("adapter_name", "has no string 'adapter_name'"),
            Map.entry("step", "has no integer 'step' below 2^31"),
            Map.entry("total_steps", "has no integer 'total_steps' below 2^31"),
            Map.entry("run_fingerprint", "has no string 'run_fingerprint'"),
            Map.entry("adam_step", "has no integer 'adam_step'"),
            Map.entry("dropout_rng_state", "has no integer 'dropout_rng_state'"),
            Map.entry("data", "has no object 'data'"),
            Map.entry("epoch", "has no integer 'epoch'"),
            Map.entry("cursor", "has no integer 'cursor' below 2^31"),
            Map.entry("epoch_rng_state", "has no integer 'epoch_rng_state'"),
            Map.entry("parameters", "has no list 'parameters'"),
            Map.entry("train_history", "has no list 'train_history'"),
            Map.entry("held_out_history", "has no list 'held_out_history'"),
            Map.entry("tensors_bytes", "has no integer 'tensors_bytes'"),
            Map.entry("tensors_sha256", "has no string 'tensors_sha256'"));
    /** What an element of each list field must be. */
    private static final Map<String, String> ELEMENT = Map.of(
            "parameters", "a distinct name",
            "train_history", "[step, loss, learning_rate]",
            "held_out_history", "[step, loss, learning_rate]");

    /** Binds without coercion: an integer field takes only a JSON integer in range, a string only a JSON string. */
    private static final ObjectMapper MAPPER = strictMapper();

    CheckpointState {
        present(formatVersion, "format_version");
        present(adapterName, "adapter_name");
        present(step, "step");
        present(totalSteps, "total_steps");
        present(runFingerprint, "run_fingerprint");
        present(adamStep, "adam_step");
        present(dropoutRngState, "dropout_rng_state");
        present(data, "data");
        present(parameters, "parameters");
        present(trainHistory, "train_history");
        present(heldOutHistory, "held_out_history");
        present(tensorsBytes, "tensors_bytes");
        present(tensorsSha256, "tensors_sha256");
        Set<String> seen = new HashSet<>();
        for (String name : parameters) {
            if (name == null || !seen.add(name)) {
                throw new IllegalArgumentException("'parameters' holds " + (name == null ? "null" : "\"" + name
                        + "\"") + ", not a distinct name");
            }
        }
        elements(trainHistory, "train_history");
        elements(heldOutHistory, "held_out_history");
        parameters = List.copyOf(parameters);
        trainHistory = List.copyOf(trainHistory);
        heldOutHistory = List.copyOf(heldOutHistory);
    }

    /** The state.json of {@code s}, whose tensors file is {@code tensorsBytes} long with SHA-256 {@code sha256}. */
    static CheckpointState of(TrainerState s, long tensorsBytes, String sha256) {
        BatchStream.Position p = s.data();
        return new CheckpointState(FORMAT_VERSION, s.adapterName(), s.step(), s.totalSteps(), s.runFingerprint(),
                s.adamStep(), s.dropoutRngState(), new Data(p.epoch(), p.cursor(), p.epochRngState()),
                List.copyOf(s.parameters().keySet()), Point.of(s.trainHistory()), Point.of(s.heldOutHistory()),
                tensorsBytes, sha256);
    }

    /** The trainer state it records, with the tensors read from the checkpoint's tensors file. */
    TrainerState trainerState(Map<String, Tensor> params, Map<String, Tensor> adamM, Map<String, Tensor> adamV) {
        return new TrainerState(adapterName, step, totalSteps, runFingerprint, adamStep, dropoutRngState,
                new BatchStream.Position(data.epoch(), data.cursor(), data.epochRngState()), params, adamM, adamV,
                Point.losses(trainHistory), Point.losses(heldOutHistory));
    }

    /** Pretty-printed, as written to {@code state.json}. */
    byte[] toJson() throws IOException {
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    }

    /** {@code bytes} as strict JSON, or empty when they are not (a truncated file, a repeated key). */
    static Optional<JsonNode> tree(byte[] bytes) {
        try {
            return Optional.of(StrictJson.MAPPER.readTree(bytes));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** True when {@code root} names a format_version above {@link #FORMAT_VERSION}: a later spark-lora's. */
    static boolean newer(JsonNode root) {
        return FormatVersion.newer(root, FORMAT_VERSION);
    }

    /** True when {@code root} names a format_version from 1 to {@link #FORMAT_VERSION}: one {@link #read} reads. */
    static boolean understood(JsonNode root) {
        return FormatVersion.understood(root, FORMAT_VERSION);
    }

    /** The refusal of a later spark-lora's state.json {@code file}, or empty when {@code root} is not one. */
    static Optional<String> laterVersion(JsonNode root, String file) {
        return newer(root) ? Optional.of(FormatVersion.refusal(root, file, FORMAT_VERSION)) : Optional.empty();
    }

    /**
     * The typed state of an {@link #understood} {@code root}; a missing or damaged field is an IOException
     * "{@code where}: state.json …" naming it ({@code where} is "Cannot load checkpoint DIR").
     */
    static CheckpointState read(JsonNode root, String where) throws IOException {
        try {
            return MAPPER.treeToValue(root, CheckpointState.class);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new IOException(where + ": " + FILE + " " + problem(root, e), e);
        }
    }

    /**
     * The length and SHA-256 of the tensors file {@code root} records, or empty when either field is missing or not
     * of its type: such a checkpoint is incomplete, passed over as one whose tensors file does not match.
     */
    static Optional<TensorsFile> tensorsFile(JsonNode root) {
        try {
            return Optional.of(MAPPER.treeToValue(root, TensorsFile.class));
        } catch (JacksonException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The field a binding failure is about, in the words of {@link #EXPECTED} and {@link #ELEMENT}. */
    private static String problem(JsonNode root, Exception e) {
        List<JsonMappingException.Reference> path = e instanceof JsonMappingException m ? m.getPath() : List.of();
        if (path.size() >= 2 && ELEMENT.containsKey(path.get(0).getFieldName())
                && path.get(1).getFieldName() == null && path.get(1).getIndex() >= 0) {
            String field = path.get(0).getFieldName(); // a list element: named as the file holds it
            return "'" + field + "' holds " + root.path(field).path(path.get(1).getIndex()) + ", not "
                    + ELEMENT.get(field);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException) { // a compact constructor's: a field missing or null
                return t.getMessage();
            }
        }
        for (int i = path.size() - 1; i >= 0; i--) {
            String expected = EXPECTED.get(path.get(i).getFieldName());
            if (expected != null) {
                return expected;
            }
        }
        String detail = e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
        return "holds no checkpoint state (" + detail + ")";
    }

    private static void present(Object value, String field) {
        if (value == null) {
            throw new IllegalArgumentException(EXPECTED.get(field));
        }
    }

    private static void elements(List<Point> history, String field) {
        for (Point p : history) {
            if (p == null) {
                throw new IllegalArgumentException("'" + field + "' holds null, not " + ELEMENT.get(field));
            }
        }
    }

    private static ObjectMapper strictMapper() {
        ObjectMapper m = new ObjectMapper()
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        for (CoercionInputShape from : List.of(CoercionInputShape.String, CoercionInputShape.Float,
                CoercionInputShape.Boolean, CoercionInputShape.EmptyString)) {
            m.coercionConfigFor(LogicalType.Integer).setCoercion(from, CoercionAction.Fail);
        }
        for (CoercionInputShape from : List.of(CoercionInputShape.String, CoercionInputShape.Boolean,
                CoercionInputShape.EmptyString)) {
            m.coercionConfigFor(LogicalType.Float).setCoercion(from, CoercionAction.Fail);
        }
        for (CoercionInputShape from : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean)) {
            m.coercionConfigFor(LogicalType.Textual).setCoercion(from, CoercionAction.Fail);
        }
        for (LogicalType t : List.of(LogicalType.POJO, LogicalType.Collection)) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        return m;
    }

    /** Where the data-order stream stood: {@link BatchStream.Position}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"epoch", "cursor", "epoch_rng_state"})
    record Data(@JsonProperty("epoch") Long epoch, @JsonProperty("cursor") Integer cursor,
                @JsonProperty("epoch_rng_state") Long epochRngState) {
        Data {
            present(epoch, "epoch");
            present(cursor, "cursor");
            present(epochRngState, "epoch_rng_state");
        }
    }

    /** The two fields of state.json that say which tensors file it was written with. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record TensorsFile(@JsonProperty("tensors_bytes") Long bytes, @JsonProperty("tensors_sha256") String sha256) {
        TensorsFile {
            present(bytes, "tensors_bytes");
            present(sha256, "tensors_sha256");
        }
    }

    /** One {@link LossPoint}, {@code [step, loss, learning rate]} in the file. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"step", "loss", "learning_rate"})
    record Point(@JsonProperty("step") Integer step, @JsonProperty("loss") Double loss,
                 @JsonProperty("learning_rate") Double learningRate) {
        Point {
            if (step == null || loss == null || learningRate == null) {
                throw new IllegalArgumentException("a loss point needs a step, a loss and a learning rate");
            }
        }

        /**
         * Read from exactly three numbers, the first an int: Jackson's array-shaped binding would skip a fourth
         * element without a word ({@code BeanAsArrayDeserializer}), and the reader before this record refused one.
         */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Point read(JsonNode n) {
            if (!n.isArray() || n.size() != 3 || !n.get(0).isIntegralNumber() || !n.get(0).canConvertToInt()
                    || !n.get(1).isNumber() || !n.get(2).isNumber()) {
                throw new IllegalArgumentException(n + " is not [step, loss, learning_rate]");
            }
            return new Point(n.get(0).intValue(), n.get(1).doubleValue(), n.get(2).doubleValue());
        }

        static List<Point> of(List<LossPoint> losses) {
            List<Point> out = new ArrayList<>(losses.size());
            losses.forEach(p -> out.add(new Point(p.step(), p.loss(), p.learningRate())));
            return out;
        }

        static List<LossPoint> losses(List<Point> points) {
            List<LossPoint> out = new ArrayList<>(points.size());
            points.forEach(p -> out.add(new LossPoint(p.step(), p.loss(), p.learningRate())));
            return out;
        }
    }
}
