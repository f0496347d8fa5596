package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * combine: cat scores like its inputs applied together (one merged into the base, the other on top), its delta is
 * the weighted sum of the inputs' deltas computed here by hand, svd at full rank reproduces cat's delta and a lower
 * rank reports the error it makes; every bad input fails with one message and leaves no output.
 */
class CombineCommandTest {
    @TempDir
    Path tmp;
    Path model;
    Path a; // rank 2 on q_proj, v_proj, alpha 4
    Path b; // rank 3 on q_proj, o_proj, alpha 3

    @BeforeEach
    void adapters() throws Exception {
        model = PretrainCommandTest.initModel(tmp.resolve("base"), 64);
        a = AdapterFixtures.adapter(model, tmp.resolve("a"), 2, 4, 1, "q_proj", "v_proj");
        b = AdapterFixtures.adapter(model, tmp.resolve("b"), 3, 3, 2, "q_proj", "o_proj");
    }

    private CliTest.Run combine(String out, String... more) {
        String[] head = {"combine", "--model", model.toString(), "--out", tmp.resolve(out).toString()};
        String[] args = new String[head.length + more.length];
        System.arraycopy(head, 0, args, 0, head.length);
        System.arraycopy(more, 0, args, head.length, more.length);
        return cli(args);
    }

    private LoraAdapter read(Path dir) throws Exception {
        return PeftAdapters.read(dir, Checkpoints.readConfig(model));
    }

    @Test
    void catScoresLikeItsInputsAppliedTogether() throws Exception {
        CliTest.Run run = combine("cat", "--adapters", a + "," + b, "--method", "cat");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("Reading adapter 2/2: " + b), run.out());
        assertTrue(run.out().contains("Wrote adapter (cat of 2, 6 modules, rank up to 5"), run.out());
        CliTest.Run merged = cli("merge", "--model", model.toString(), "--adapter", a.toString(), "--out",
                tmp.resolve("base+a").toString());
        assertEquals(0, merged.status(), merged.err());

        Path text = tmp.resolve("t.txt");
        Files.writeString(text, PretrainCommandTest.CORPUS.substring(0, 400));
        double viaCat = PretrainCommandTest.score(model, text, tmp.resolve("cat").toString());
        double together = PretrainCommandTest.score(tmp.resolve("base+a"), text, b.toString());
        double alone = PretrainCommandTest.score(model, text, a.toString());
        assertEquals(together, viaCat, 1e-5);
        assertTrue(Math.abs(alone - together) > 1e-3, "b matters: " + alone + " vs " + together);
        JsonNode record = new ObjectMapper().readTree(tmp.resolve("cat/combine.json").toFile());
        assertEquals("cat", record.get("method").asText());
        assertEquals(5, record.get("ranks").get("model.layers.0.self_attn.q_proj").asInt());
        // the same inputs and output as file:// URIs: the same weights
        CliTest.Run uris = cli("combine", "--model", model.toUri().toString(), "--adapters", a.toUri() + ","
                + b.toUri(), "--method", "cat", "--out", tmp.resolve("cat-uri").toUri().toString());
        assertEquals(0, uris.status(), uris.err());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("cat/adapter_model.safetensors")),
                Files.readAllBytes(tmp.resolve("cat-uri/adapter_model.safetensors"))));
    }

    @Test
    void weightedCatIsTheWeightedSumOfTheDeltasAndSvdAtFullRankReproducesIt() throws Exception {
        assertEquals(0, combine("cat", "--adapters", a + "," + b, "--weights", "0.7,-1.5", "--method", "cat")
                .status());
        CliTest.Run svd = combine("svd", "--adapters", a + "," + b, "--weights", "0.7,-1.5", "--method", "svd",
                "--rank", "5");
        assertEquals(0, svd.status(), svd.err());
        CliTest.Run low = combine("svd1", "--adapters", a + "," + b, "--weights", "0.7,-1.5", "--method", "svd",
                "--rank", "1");
        assertEquals(0, low.status(), low.err());
        LoraAdapter la = read(a);
        LoraAdapter lb = read(b);
        LoraAdapter cat = read(tmp.resolve("cat"));
        LoraAdapter full = read(tmp.resolve("svd"));
        LoraAdapter one = read(tmp.resolve("svd1"));
        JsonNode record = new ObjectMapper().readTree(tmp.resolve("svd1/combine.json").toFile());
        String q = "model.layers.1.self_attn.q_proj";
        for (LoraModule m : cat.modules().values()) {
            String path = m.target().path();
            double[] da = la.module(path) != null ? AdapterFixtures.delta(la.module(path)) : new double[0];
            double[] db = lb.module(path) != null ? AdapterFixtures.delta(lb.module(path)) : new double[0];
            double[] expected = da.length == 0 ? AdapterFixtures.add(db, -1.5, db, 0)
                    : db.length == 0 ? AdapterFixtures.add(da, 0.7, da, 0) : AdapterFixtures.add(da, 0.7, db, -1.5);
            double[] catDelta = AdapterFixtures.delta(m);
            assertTrue(AdapterFixtures.relativeError(catDelta, expected) < 1e-6, path);
            assertTrue(AdapterFixtures.relativeError(AdapterFixtures.delta(full.module(path)), catDelta) < 1e-5,
                    path);
            double err = AdapterFixtures.relativeError(AdapterFixtures.delta(one.module(path)), catDelta);
            assertEquals(err, record.get("relative_error").get(path).asDouble(), 1e-4, path);
        }
        double qError = record.get("relative_error").get(q).asDouble();
        assertTrue(qError > 0.05, "rank 1 of a rank-5 sum loses something: " + qError);
        assertEquals(1, one.module(q).rank());
        assertTrue(low.out().contains(q + ": relative error "), low.out());
    }

    @Test
    void linearTakesEqualRanksAndModules() throws Exception {
        Path c = AdapterFixtures.adapter(model, tmp.resolve("c"), 2, 2, 3, "q_proj", "v_proj");
        CliTest.Run ok = combine("lin", "--adapters", a + "," + c, "--method", "linear", "--weights", "0.5,0.5");
        assertEquals(0, ok.status(), ok.err());
        assertEquals(2, read(tmp.resolve("lin")).module("model.layers.0.self_attn.v_proj").rank());

        CliTest.Run modules = combine("x", "--adapters", a + "," + b, "--method", "linear");
        assertFails(modules, "adapt different modules", "use cat or svd", "adapter 2 = " + b);
        Path r3 = AdapterFixtures.adapter(model, tmp.resolve("r3"), 3, 3, 4, "q_proj", "v_proj");
        assertFails(combine("x", "--adapters", a + "," + r3, "--method", "linear"), "has rank 2 in adapter 1 and 3 in "
                + "adapter 2; linear needs equal ranks");
    }

    @Test
    void badOptionsFailWithoutOutput() {
        assertFails(combine("x", "--adapters", a + "," + b, "--method", "cat", "--weights", "1"),
                "Invalid --weights: 1 weight(s) for 2 adapter(s)");
        assertFails(combine("x", "--adapters", a + "," + b, "--method", "svd", "--rank", "0"),
                "Invalid --rank 0: must be >= 1");
        assertFails(combine("x", "--adapters", a + "," + b, "--method", "cat", "--rank", "2"),
                "Invalid --rank 2: only --method svd takes a rank");
        assertFails(combine("x", "--adapters", a + "," + b, "--method", "ties"),
                "Invalid --method ties: expected one of cat, linear, svd");
        assertFails(combine("x", "--adapters", a + "," + tmp.resolve("nope"), "--method", "cat"),
                "Cannot read adapter " + tmp.resolve("nope"));
    }

    @Test
    void adaptersOfAnotherBaseAreRefused() throws Exception {
        // the same architecture, other weights: only the recorded base tells them apart
        Files.writeString(b.resolve("training.json"), "{\"base_model\": {\"path\": \"file:/elsewhere\", "
                + "\"sha256\": \"00ff\"}}");
        assertFails(combine("x", "--adapters", a + "," + b, "--method", "cat"), "Cannot combine adapters: adapter "
                + b + " was trained on another base model (file:/elsewhere, sha256 00ff) than --model " + model);
        Files.delete(b.resolve("training.json"));
        Path other = PretrainCommandTest.initModel(tmp.resolve("other"), 64);
        Path c = AdapterFixtures.adapter(other, tmp.resolve("c"), 2, 4, 1, "q_proj", "v_proj");
        assertFails(combine("x", "--adapters", a + "," + c, "--method", "cat"), "adapters of different base models: "
                + a + " has base_model_name_or_path " + model + ", " + c + " has " + other);
        // another shape: the reader names the tensor
        CliTest.Run init = cli("init-model", "--family", "llama", "--dim", "48", "--layers", "2", "--heads", "4",
                "--ffn", "64", "--vocab", "256", "--max-seq", "64", "--out", tmp.resolve("wide").toString());
        assertEquals(0, init.status(), init.err());
        assertFails(cli("combine", "--model", tmp.resolve("wide").toString(), "--adapters", a.toString(),
                "--method", "cat", "--out", tmp.resolve("x").toString()), "Cannot read adapter " + a, "has shape");
    }

    @Test
    void configFileSetsTheOptions() throws Exception {
        Path yaml = tmp.resolve("combine.yaml");
        Files.writeString(yaml, "method: svd\nrank: 2\nadapters: [" + a + ", " + b + "]\n");
        CliTest.Run run = combine("viaConfig", "--config", yaml.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals(2, read(tmp.resolve("viaConfig")).module("model.layers.0.self_attn.q_proj").rank());
        CliTest.Run help = cli("combine", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--method"), help.out());
    }

    private void assertFails(CliTest.Run run, String... parts) {
        assertEquals(1, run.status(), run.out());
        for (String p : parts) {
            assertTrue(run.err().contains(p), run.err());
        }
        assertFalse(Files.exists(tmp.resolve("x")), "no partial output");
    }
}
