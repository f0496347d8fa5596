package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** merge keeps the adapter's scores; generate is deterministic and the merged model generates as base + adapter. */
class MergeGenerateCommandTest {
    @TempDir
    Path tmp;

    private Path adapterOn(Path model) throws Exception {
        BaseModel base = Checkpoints.load(model);
        LoraAdapter adapter = LoraAdapter.initialize(LoraConfig.defaults().withRank(4), base.config());
        for (LoraModule m : adapter.modules().values()) {
            Tensor b = m.loraB().value(); // (out, rank): non-zero so the adapter changes the model
            for (int i = 0; i < b.size(); i++) {
                b.set(i, (float) Math.cos(i + 2) * 0.5f);
            }
        }
        Path dir = tmp.resolve("adapter");
        PeftAdapters.write(dir, adapter, model.toString());
        return dir;
    }

    @Test
    void mergedModelScoresAndGeneratesAsBasePlusAdapter() throws Exception {
        Path model = PretrainCommandTest.initModel(tmp.resolve("base"), 64);
        Path adapter = adapterOn(model);
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. ".repeat(3));
        Path merged = tmp.resolve("merged");
        CliTest.Run merge = cli("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out",
                merged.toString());
        assertEquals(0, merge.status(), merge.err());

        double base = PretrainCommandTest.score(model, text);
        double withAdapter = PretrainCommandTest.score(model, text, adapter.toString());
        double mergedScore = PretrainCommandTest.score(merged, text);
        assertTrue(Math.abs(withAdapter - base) > 1e-3, "the adapter matters: " + base + " vs " + withAdapter);
        assertEquals(withAdapter, mergedScore, 1e-5);
        assertEquals(base, PretrainCommandTest.score(model, text), 0.0, "merge does not touch the base files");

        String viaAdapter = generate("--model", model.toString(), "--adapter", adapter.toString());
        String viaMerged = generate("--model", merged.toString());
        assertEquals(viaAdapter, viaMerged);
        assertNotEquals(generate("--model", model.toString()), viaAdapter);

        CliTest.Run taken = cli("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out",
                merged.toString());
        assertEquals(1, taken.status());
        assertTrue(taken.err().contains("Cannot write merged model to " + merged
                + ": it exists and is not an empty directory"), taken.err());
    }

    private static String generate(String... modelArgs) {
        String[] args = new String[modelArgs.length + 5];
        args[0] = "generate";
        System.arraycopy(modelArgs, 0, args, 1, modelArgs.length);
        System.arraycopy(new String[] {"--prompt", "Zwölf ", "--max-new-tokens", "12"}, 0, args,
                modelArgs.length + 1, 4);
        CliTest.Run run = cli(args);
        assertEquals(0, run.status(), run.err());
        return run.out();
    }

    @Test
    void generateIsSeededAndStopsAtMaxPositions() throws Exception {
        Path model = PretrainCommandTest.initModel(tmp.resolve("base"), 16);
        CliTest.Run greedy1 = cli("generate", "--model", model.toString(), "--prompt", "abc", "--max-new-tokens", "5");
        CliTest.Run greedy2 = cli("generate", "--model", model.toString(), "--prompt", "abc", "--max-new-tokens", "5");
        assertEquals(0, greedy1.status(), greedy1.err());
        assertEquals(greedy1.out(), greedy2.out());

        String[] sample = {"generate", "--model", model.toString(), "--prompt", "abc", "--max-new-tokens", "8",
                "--temperature", "1.0", "--top-p", "0.95", "--seed", "9"};
        assertEquals(cli(sample).out(), cli(sample).out());

        CliTest.Run cut = cli("generate", "--model", model.toString(), "--prompt", "abcdef", "--max-new-tokens", "50");
        assertEquals(0, cut.status(), cut.err());
        assertTrue(cut.err().contains("(stopped after 10 tokens: the model's max positions is 16)"), cut.err());

        CliTest.Run bad = cli("generate", "--model", model.toString(), "--prompt", "abc", "--top-p", "1.5");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("Invalid topP 1.5: must be in (0, 1]"), bad.err());
    }
}
