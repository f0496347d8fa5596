package io.sparklora.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * training.json in the spelling the hand-built writers of earlier releases produced (train's TrainingRecord,
 * pretrain's, a tree path's: field names, order, explicit nulls, absent fields) reads into the record and writes back
 * the same bytes; malformed ones are refused naming the file.
 */
public class TrainingFileTest {
    /** An adapter's, as train's TrainingRecord wrote it (pretty-printed, null key, one unmeasured held-out loss). */
    public static final String ADAPTER = """
            {
              "format_version" : 1,
              "adapter" : "shard-0",
              "key" : null,
              "versions" : {
                "spark_lora" : "0.1.0",
                "spark" : "4.0.1",
                "java" : "17.0.15"
              },
              "base_model" : {
                "path" : "file:/m",
                "sha256" : "ab",
                "tokenizer" : "byte"
              },
              "fingerprint" : {
                "base_model" : "ab",
                "settings" : "cd",
                "data" : "ef",
                "combined" : "gh"
              },
              "seed" : 42,
              "train_spec" : {
                "steps" : 10,
                "epochs" : 0,
                "batch_size" : 4,
                "seq_len" : 32,
                "learning_rate" : 0.001,
                "warmup_steps" : 0,
                "min_lr_ratio" : 0.1,
                "weight_decay" : 0.0,
                "grad_clip" : 1.0,
                "grad_accumulation" : 1,
                "eval_every" : 5,
                "checkpoint_every" : 0,
                "held_out_fraction" : 0.1
              },
              "mode" : "lora",
              "trainable_params" : 4096,
              "lora" : {
                "rank" : 4,
                "alpha" : 8.0,
                "dropout" : 0.0,
                "target_modules" : [ "q_proj", "v_proj" ],
                "use_rslora" : false,
                "init_seed" : 42
              },
              "data" : {
                "rows" : 20,
                "rows_too_short" : 1,
                "tokens" : 900,
                "target_tokens" : 880,
                "train_windows" : 18,
                "held_out_windows" : 0,
                "windows_in" : "memory"
              },
              "fused_with" : [ "shard-1" ],
              "steps" : 10,
              "resumed_from_step" : 5,
              "attempt" : 1,
              "final_train_loss" : 5.25,
              "final_held_out_loss" : null,
              "base_held_out_loss" : null,
              "train_history" : [ [ 1, 5.5, 1.0E-4 ], [ 2, 5.25, 2.0E-4 ] ],
              "held_out_history" : [ ],
              "timings" : {
                "train_seconds" : 1.25,
                "eval_seconds" : 0.0,
                "checkpoint_seconds" : 0.125,
                "total_seconds" : 1.5,
                "tokens_per_second" : 720.0
              },
              "started_at" : "2026-12-01T10:00:00Z",
              "finished_at" : "2026-12-01T10:00:02Z"
            }""";

    /** train --full's: lora null, a key, held-out losses measured. */
    public static final String FULL = """
            {"format_version":1,"adapter":"en","key":"en","versions":{"spark_lora":"0.1.0","spark":"4.0.1",\
            "java":"17"},"base_model":{"path":"m","sha256":"ab","tokenizer":"hf:tokenizer.json"},\
            "fingerprint":{"base_model":"ab","settings":"cd","data":"ef","combined":"gh"},"seed":1,\
            "train_spec":{"steps":2,"epochs":0,"batch_size":2,"seq_len":16,"learning_rate":0.01,"warmup_steps":0,\
            "min_lr_ratio":0.0,"weight_decay":0.0,"grad_clip":1.0,"grad_accumulation":1,"eval_every":1,\
            "checkpoint_every":1,"held_out_fraction":0.2},"mode":"full_weights","trainable_params":12345,\
            "lora":null,"data":{"rows":5,"rows_too_short":0,"tokens":80,"target_tokens":75,"train_windows":4,\
            "held_out_windows":1,"windows_in":"spill file"},"steps":2,"resumed_from_step":0,"attempt":0,\
            "final_train_loss":5.0,"final_held_out_loss":4.5,"base_held_out_loss":5.5,\
            "train_history":[[1,5.5,0.01],[2,5.0,0.01]],"held_out_history":[[1,4.75,0.01],[2,4.5,0.01]],\
            "timings":{"train_seconds":1.0,"eval_seconds":0.5,"checkpoint_seconds":0.25,"total_seconds":2.0,\
            "tokens_per_second":80.0},"started_at":"a","finished_at":"b"}""";

    /** A tree path's, as TreePaths wrote it (with an SVD to path_rank). */
    public static final String TREE_PATH = """
            {"format_version":1,"tree_path":"fr","nodes":["all","fr"],"rank":2,"rank_sum":4,"path_rank":2,\
            "svd_max_relative_error":0.125,"svd_relative_error":{"q_proj":0.125,"v_proj":0.0625}}""";

    private static TrainingFile read(String json) throws IOException {
        return TrainingFile.read(json.getBytes(StandardCharsets.UTF_8), "out/adapters/en/training.json");
    }

    /** Same fields, same values and number types, same order. */
    private static void assertSameDocument(String expected, byte[] written) throws IOException {
        assertEquals(StrictJson.MAPPER.readTree(expected).toString(), StrictJson.MAPPER.readTree(written).toString());
    }

    @Test
    void anAdaptersRecordWritesBackTheSameBytes() throws IOException {
        TrainingFile t = read(ADAPTER);
        assertEquals(ADAPTER, new String(t.toJson(), StandardCharsets.UTF_8));
        assertNull(t.key());
        assertTrue(t.finalHeldOutLoss().isNaN(), "null in the file: not measured");
        assertEquals(List.of("q_proj", "v_proj"), t.targets());
        assertEquals(new TrainingFile.Point(2, 5.25, 2.0E-4), t.trainHistory().get(1));
        assertEquals(1.5, t.totalSeconds());
    }

    @Test
    void fullTreePathAndPretrainRecordsWriteBackTheSameDocument() throws IOException {
        TrainingFile full = read(FULL);
        assertSameDocument(FULL, full.toJson());
        assertNull(full.lora());
        assertNull(full.targets());
        TrainingFile path = read(TREE_PATH);
        assertSameDocument(TREE_PATH, path.toJson());
        assertEquals(List.of("all", "fr"), path.nodes());
        // the shipped base's, as pretrain wrote it: the same bytes (pretrain adds the final newline)
        byte[] shipped = Files.readAllBytes(Path.of("..", "models", "demo-base", "training.json"));
        TrainingFile pretrain = TrainingFile.read(shipped, "demo-base/training.json");
        assertEquals(TrainingFile.PRETRAIN, pretrain.command());
        assertEquals(3000, pretrain.trainHistory().size());
        assertEquals(new String(shipped, StandardCharsets.UTF_8),
                new String(pretrain.toJson(), StandardCharsets.UTF_8) + "\n");
    }

    @Test
    void aRecordWithoutFormatVersionOrOfTheWrongShapeIsRefusedNamingTheFile() {
        String where = "out/adapters/en/training.json";
        IOException none = assertThrows(IOException.class, () -> read("{\"adapter\": \"en\"}"));
        assertEquals("Cannot read " + where + ": it has no format_version; this spark-lora reads format_version 1",
                none.getMessage());
        IOException newer = assertThrows(IOException.class, () -> read("{\"format_version\": 2}"));
        assertTrue(newer.getMessage().startsWith("Cannot read " + where + ": format_version 2 is newer"),
                newer.getMessage());
        IOException point = assertThrows(IOException.class, () -> read("{\"format_version\": 1, "
                + "\"train_history\": [[1, \"x\", 0.1]]}"));
        assertTrue(point.getMessage().startsWith("Cannot read " + where + ": "), point.getMessage());
        assertTrue(point.getMessage().contains("(at /train_history/0"), point.getMessage());
        IOException twice = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"steps\": 1, "
                + "\"steps\": 2}"));
        assertTrue(twice.getMessage().startsWith("Cannot read " + where + ": not valid JSON"), twice.getMessage());
        IOException lora = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"lora\": [1]}"));
        assertTrue(lora.getMessage().startsWith("Cannot read " + where + ": "), lora.getMessage());
    }
}
