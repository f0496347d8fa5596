package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.LinearModule;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * extract on a model fine-tuned by {@code pretrain} (all weights changed): at full rank, the adapter merged into the
 * base gives back the fine-tuned linear weights; at a lower rank the error extract.json reports is the error of the
 * merged weights measured here; what LoRA cannot hold (the norms) is named.
 */
class ExtractCommandTest {
    @TempDir
    Path tmp;

    static Path fineTune(Path base, Path text, Path out) throws Exception {
        Files.writeString(text, PretrainCommandTest.CORPUS);
        CliTest.Run run = cli("pretrain", "--model", base.toString(), "--data", text.toString(), "--steps", "6",
                "--batch", "2", "--seq", "32", "--lr", "1e-2", "--warmup", "1", "--seed", "1", "--out",
                out.toString());
        assertEquals(0, run.status(), run.err());
        return out;
    }

    /** Extracts at {@code rank}, merges the result into the base, and returns the merged model. */
    private BaseModel extractAndMerge(Path base, Path tuned, int rank) throws Exception {
        Path adapter = tmp.resolve("r" + rank);
        CliTest.Run run = cli("extract", "--model", base.toString(), "--tuned", tuned.toString(), "--rank",
                Integer.toString(rank), "--out", adapter.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("Wrote rank-" + rank + " adapter of 14 modules"), run.out());
        CliTest.Run merge = cli("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out",
                tmp.resolve("merged" + rank).toString());
        assertEquals(0, merge.status(), merge.err());
        return Checkpoints.load(tmp.resolve("merged" + rank));
    }

    @Test
    void fullRankGivesBackTheFineTunedWeightsAndALowerRankReportsItsError() throws Exception {
        Path base = PretrainCommandTest.initModel(tmp.resolve("base"), 64);
        Path tuned = fineTune(base, tmp.resolve("t.txt"), tmp.resolve("tuned"));
        BaseModel b = Checkpoints.load(base);
        BaseModel t = Checkpoints.load(tuned);

        BaseModel full = extractAndMerge(base, tuned, 32);
        BaseModel four = extractAndMerge(base, tuned, 4);
        JsonNode record = new ObjectMapper().readTree(tmp.resolve("r4/extract.json").toFile());
        int linears = 0;
        for (LinearModule m : b.config().linearModules()) {
            if (m.layer() < 0) {
                continue;
            }
            linears++;
            double[] change = AdapterFixtures.weightDifference(m, b, t); // what fine-tuning did
            double[] fullChange = AdapterFixtures.weightDifference(m, b, full);
            assertTrue(AdapterFixtures.relativeError(fullChange, change) < 1e-4, m.path());
            double err = AdapterFixtures.relativeError(AdapterFixtures.weightDifference(m, b, four), change);
            assertEquals(err, record.get("relative_error").get(m.path()).asDouble(), 1e-3, m.path());
            assertTrue(err > 1e-3, m.path() + " at rank 4 of " + Math.min(m.inFeatures(), m.outFeatures()));
        }
        assertEquals(14, linears);
        assertTrue(record.get("max_relative_error").asDouble() > 0);
        assertEquals(4, record.get("rank").asInt());
        assertTrue(record.get("not_extracted").has("model.norm.weight"), record.toString());
        assertEquals(0, new ObjectMapper().readTree(tmp.resolve("r32/extract.json").toFile())
                .get("max_relative_error").asDouble(), 1e-5);

        // --config FILE sets the same keys (the flag --out beside it), here as file:// URIs: the same adapter as the
        // flags with plain paths wrote
        Path yaml = tmp.resolve("extract.yaml");
        Files.writeString(yaml, "model: " + base.toUri() + "\ntuned: " + tuned.toUri() + "\nrank: 4\n");
        CliTest.Run viaConfig = cli("extract", "--config", yaml.toString(), "--out",
                tmp.resolve("cfg").toUri().toString());
        assertEquals(0, viaConfig.status(), viaConfig.err());
        assertTrue(viaConfig.out().contains("Extracting rank 4 from "), viaConfig.out()); // its progress lines
        assertTrue(viaConfig.out().contains("model.layers.0.self_attn.q_proj: relative error "), viaConfig.out());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("r4/adapter_model.safetensors")),
                Files.readAllBytes(tmp.resolve("cfg/adapter_model.safetensors"))));
        CliTest.Run help = cli("extract", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--tuned") && help.out().contains("--config"), help.out());
    }

    @Test
    void badInputsFailWithoutOutput() throws Exception {
        Path base = PretrainCommandTest.initModel(tmp.resolve("base"), 64);
        CliTest.Run wide = cli("init-model", "--family", "llama", "--dim", "48", "--layers", "2", "--heads", "4",
                "--ffn", "64", "--vocab", "256", "--max-seq", "64", "--out", tmp.resolve("wide").toString());
        assertEquals(0, wide.status(), wide.err());
        assertFails(base, base, "0", "Invalid --rank 0: must be >= 1");
        assertFails(base, base, "33", "Cannot extract adapter: rank 33 must be between 1 and 32");
        assertFails(base, tmp.resolve("wide"), "4", "Cannot extract adapter: tensor", "in the tuned model and");
        assertFails(base, tmp.resolve("none"), "4", "Cannot load tuned model " + tmp.resolve("none"));
    }

    private void assertFails(Path base, Path tuned, String rank, String... parts) {
        CliTest.Run run = cli("extract", "--model", base.toString(), "--tuned", tuned.toString(), "--rank", rank,
                "--out", tmp.resolve("x").toString());
        assertEquals(1, run.status(), run.out());
        for (String p : parts) {
            assertTrue(run.err().contains(p), run.err());
        }
        assertFalse(Files.exists(tmp.resolve("x")), "no partial output");
    }
}
