package io.sparklora.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * manifest.json in the spelling the hand-built writer of earlier releases produced (field names, order, explicit
 * nulls, absent fields) reads into the record and writes back the same document; malformed ones are refused naming
 * the file.
 */
public class ManifestFileTest {
    /** A train output of two adapters (one committed without held-out windows, one failed), as 0.1 wrote it. */
    public static final String TRAIN = """
            {"format_version":1,"written_at":"2026-12-01T10:00:00Z","job":{"model":"file:/m","base_model_sha256":"ab",\
            "data":"d.jsonl","format":"jsonl","text_column":"text","prompt_column":null,"completion_column":null,\
            "partition_by":"lang","shards":0,"seed":42,"skip_malformed":false,"seq_len":32,"batch_size":4,\
            "held_out_fraction":0.1,"spill_rows":100000,"largest_keys":[{"key":"cat","adapter":"cat","rows":20,\
            "tokens":900}]},"malformed_rows_skipped":0,"adapters":[{"name":"cat","key":"cat","path":"adapters/cat",\
            "status":"trained","reason":"new","rank":4,"alpha":8.0,"targets":["q_proj","v_proj"],"rows":20,\
            "rows_too_short":0,"steps":10,"final_train_loss":5.25,"final_held_out_loss":null,\
            "base_held_out_loss":null,"seconds":1.5,"fingerprint":{"base_model":"ab","settings":"cd","data":"ef",\
            "combined":"gh"},"sha256":{"adapter_config.json":"01","adapter_model.safetensors":"02"}},\
            {"name":"market","key":null,"path":null,"status":"failed","reason":"Cannot train adapter market: loss is \
            NaN at step 3","failure":"deterministic","rank":4,"alpha":8.0,"targets":["q_proj","v_proj"],"rows":20,\
            "fingerprint":{"base_model":"ab","settings":"cd","data":"ij","combined":"kl"}}],"skipped":[{"key":"tiny",\
            "reason":"too small"}],"router":{"accuracy":0.5,"per_adapter":[{"name":"cat","accuracy":1.0}]}}""";

    /** A tree output's extra fields and a rank search's, as 0.1 wrote them (a root's parent: see below). */
    public static final String TREE = """
            {"format_version":1,"written_at":"w","job":{"model":"m","base_model_sha256":"ab","data":"d",\
            "format":"jsonl","text_column":"text","prompt_column":null,"completion_column":null,"partition_by":"lang",\
            "shards":0,"seed":1,"skip_malformed":true,"seq_len":16,"batch_size":2,"held_out_fraction":0.2,\
            "rank_auto":{"rank_min":1,"rank_max":8,"rank_tolerance":0.01}},"malformed_rows_skipped":3,\
            "adapters":[{"name":"fr","key":"fr","path":"adapters/fr","status":"existing","reason":"fingerprint \
            matches","rank":2,"alpha":16.0,"targets":["q_proj"],"rows":9,"rows_too_short":1,"steps":3,\
            "final_train_loss":4.0,"final_held_out_loss":3.5,"base_held_out_loss":5.0,"seconds":0.25,\
            "fingerprint":{"base_model":"ab","settings":"cd","data":"ef","combined":"gh"},"sha256":{"a":"b"},\
            "parent":"all","keys":["fr",null],"level":1,"rank_search":[{"rank":1,"held_out_loss":null,"seconds":0.5},\
            {"rank":2,"held_out_loss":3.5,"seconds":0.25}]}],"skipped":[],"paths":[{"name":"fr","nodes":["all","fr"],\
            "path":"paths/fr","status":"trained","reason":"flattened","rank":4,"rank_sum":4,"path_rank":2,\
            "svd_max_relative_error":0.125,"fingerprint":"xy"},{"name":"de","nodes":["all","de"],"path":null,\
            "status":"failed","reason":"node de of its path failed","failure":"transient"}],\
            "tree":{"file":"tree.yaml","levels":2}}""";

    /** train --full: models, with mode and parameters after the status (this record's order; 0.1 put path last). */
    public static final String FULL = """
            {"format_version":1,"written_at":"w","job":{"model":"m","base_model_sha256":"ab","data":"d",\
            "format":"jsonl","text_column":"text","prompt_column":null,"completion_column":null,"partition_by":null,\
            "shards":2,"seed":1,"skip_malformed":false,"seq_len":16,"batch_size":2,"held_out_fraction":0.2,\
            "mode":"full"},"malformed_rows_skipped":0,"adapters":[],"models":[{"name":"shard-0","key":"shard-0",\
            "path":"models/shard-0","status":"trained","reason":"new","mode":"full","parameters":12345,"rows":5,\
            "rows_too_short":0,"steps":2,"final_train_loss":5.0,"final_held_out_loss":4.5,"base_held_out_loss":5.5,\
            "seconds":2.0,"fingerprint":{"base_model":"ab","settings":"cd","data":"ef","combined":"gh"},\
            "sha256":{"config.json":"1","model.safetensors":"2"}}],"skipped":[]}""";

    private static ManifestFile read(String json) throws IOException {
        return ManifestFile.read(json.getBytes(StandardCharsets.UTF_8), "out/manifest.json");
    }

    /** Same fields, same values and number types, same order. */
    private static void assertSameDocument(String expected, byte[] written) throws IOException {
        assertEquals(StrictJson.MAPPER.readTree(expected).toString(), StrictJson.MAPPER.readTree(written).toString());
    }

    @Test
    void aTrainOutputsManifestReadsAndWritesBackTheSameDocument() throws IOException {
        ManifestFile m = read(TRAIN);
        assertSameDocument(TRAIN, m.toJson());
        ManifestFile.Adapter cat = m.adapters().get(0);
        assertTrue(cat.finalHeldOutLoss().isNaN(), "null in the file: not measured");
        assertEquals(2, cat.sha256().size());
        ManifestFile.Adapter market = m.adapters().get(1);
        assertTrue(market.isFailed());
        assertNull(market.finalHeldOutLoss(), "absent in the file: does not apply");
        assertNull(market.path());
        assertEquals("gh", cat.fingerprint().combined());
        assertEquals("too small", m.skipped().get(0).reason());
        assertEquals(m.adapters(), m.offered());
    }

    @Test
    void treeRankSearchAndFullOutputsWriteBackTheSameDocument() throws IOException {
        ManifestFile tree = read(TREE);
        assertSameDocument(TREE, tree.toJson());
        assertEquals(tree.paths(), tree.offered());
        assertTrue(tree.adapters().get(0).rankSearch().get(0).heldOutLoss().isNaN());
        assertSameDocument(FULL, read(FULL).toJson());
        assertEquals(12345L, read(FULL).models().get(0).parameters());
    }

    @Test
    void aManifestWithoutFormatVersionOrOfTheWrongShapeIsRefusedNamingTheFile() {
        IOException none = assertThrows(IOException.class, () -> read("{\"adapters\": []}"));
        assertEquals("Cannot read out/manifest.json: it has no format_version; this spark-lora reads format_version"
                + " 1", none.getMessage());
        IOException json = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"adapters\": [}"));
        assertTrue(json.getMessage().startsWith("Cannot read out/manifest.json: not valid JSON ("), json.getMessage());
        IOException twice = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"format_version\": 1}"));
        assertTrue(twice.getMessage().contains("Duplicate field 'format_version'"), twice.getMessage());
        IOException type = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"adapters\": "
                + "[{\"name\": \"a\", \"rows\": [1]}]}"));
        assertTrue(type.getMessage().startsWith("Cannot read out/manifest.json: ") && type.getMessage().endsWith(
                "(at /adapters/0/rows)"), type.getMessage());
        IOException status = assertThrows(IOException.class, () -> read("{\"format_version\": 1, \"adapters\": "
                + "[{\"name\": \"a\", \"status\": \"done\"}]}"));
        assertTrue(status.getMessage().startsWith("Cannot read out/manifest.json: Invalid adapter status done: must "
                + "be one of"), status.getMessage());
    }
}
