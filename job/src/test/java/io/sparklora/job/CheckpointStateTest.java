package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spelling of state.json that format_version 1 checkpoints have had since the first release, byte for byte. */
class CheckpointStateTest {
    /** Written by hand in the layout of Jackson's default pretty printer, which every release has used for it. */
    private static final String GOLDEN = """
            {
              "format_version" : 1,
              "adapter_name" : "ad-1",
              "step" : 2,
              "total_steps" : 100,
              "run_fingerprint" : "f00d",
              "adam_step" : 4,
              "dropout_rng_state" : -9223372036854775807,
              "data" : {
                "epoch" : 3,
                "cursor" : 5,
                "epoch_rng_state" : -42
              },
              "parameters" : [ "base_model.model.x.lora_A.weight", "base_model.model.x.lora_B.weight" ],
              "train_history" : [ [ 1, 5.5, 1.0E-4 ], [ 2, 0.30000000000000004, 2.0E-4 ] ],
              "held_out_history" : [ ],
              "tensors_bytes" : 184,
              "tensors_sha256" : "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            }""";

    @Test
    void aHandWrittenStateJsonReadsIntoTheRecordAndWritesBackByteForByte() throws IOException {
        byte[] bytes = GOLDEN.getBytes(StandardCharsets.UTF_8);
        CheckpointState s = CheckpointState.read(CheckpointState.tree(bytes).orElseThrow(), "Cannot load checkpoint x");
        assertEquals(2, s.step());
        assertEquals(0x8000_0000_0000_0001L, s.dropoutRngState());
        assertEquals(new CheckpointState.Data(3L, 5, -42L), s.data());
        assertEquals(List.of(new CheckpointState.Point(1, 5.5, 1e-4), new CheckpointState.Point(2, 0.1 + 0.2, 2e-4)),
                s.trainHistory());
        assertEquals(184L, s.tensorsBytes());
        assertEquals(GOLDEN, new String(s.toJson(), StandardCharsets.UTF_8));
    }

    @Test
    void everyFieldMissingIsNamed() throws IOException {
        for (String field : List.of("format_version", "adapter_name", "step", "total_steps", "run_fingerprint",
                "adam_step", "dropout_rng_state", "data", "parameters", "train_history", "held_out_history",
                "tensors_bytes", "tensors_sha256", "epoch", "cursor", "epoch_rng_state")) {
            String json = GOLDEN.replaceFirst("\"" + field + "\" :", "\"renamed_" + field + "\" :");
            IOException e = assertThrows(IOException.class, () -> CheckpointState.read(
                    CheckpointState.tree(json.getBytes(StandardCharsets.UTF_8)).orElseThrow(), "Cannot load x"));
            assertEquals("Cannot load x: state.json has no " + kind(field) + " '" + field + "'"
                    + (List.of("step", "total_steps", "cursor").contains(field) ? " below 2^31" : ""), e.getMessage());
        }
    }

    @Test
    void everyFieldOfTheWrongTypeIsNamed() throws IOException {
        for (String field : List.of("adapter_name", "step", "total_steps", "run_fingerprint", "adam_step",
                "dropout_rng_state", "data", "parameters", "train_history", "held_out_history", "tensors_bytes",
                "tensors_sha256", "epoch", "cursor", "epoch_rng_state")) {
            String bad = kind(field).equals("string") ? "7" : "\"7\"";
            String json = GOLDEN.replaceFirst("(\"" + field + "\" : )(\"[^\"]*\"|-?[0-9]+|\\{[^}]*}|\\[[^\\n]*])",
                    "$1" + bad);
            IOException e = assertThrows(IOException.class, () -> CheckpointState.read(
                    CheckpointState.tree(json.getBytes(StandardCharsets.UTF_8)).orElseThrow(), "Cannot load x"),
                    json);
            assertEquals("Cannot load x: state.json has no " + kind(field) + " '" + field + "'"
                    + (List.of("step", "total_steps", "cursor").contains(field) ? " below 2^31" : ""), e.getMessage());
        }
    }

    private static String kind(String field) {
        return switch (field) {
            case "adapter_name", "run_fingerprint", "tensors_sha256" -> "string";
            case "data" -> "object";
            case "parameters", "train_history", "held_out_history" -> "list";
            default -> "integer";
        };
    }
}
