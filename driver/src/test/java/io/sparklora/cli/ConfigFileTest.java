package io.sparklora.cli;

import static io.sparklora.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config FILE: flag > file > default, YAML and JSON, unknown keys named with the file. */
class ConfigFileTest {
    @TempDir
    Path tmp;

    @Test
    void flagBeatsFileBeatsDefault() throws Exception {
        Path model = PretrainCommandTest.initModel(tmp.resolve("m"), 32);
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, PretrainCommandTest.CORPUS);
        Path yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, String.join("\n",
                "# options of pretrain by their long names",
                "model: " + model,
                "data: " + text,
                "steps: 4",
                "batch: 2",
                "seq: 16",
                "lr: 0.005",
                ""));
        Path out = tmp.resolve("o1");
        CliTest.Run run = cli("pretrain", "--config", yaml.toString(), "--steps", "3", "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode config = new ObjectMapper().readTree(out.resolve("training.json").toFile()).get("train_spec");
        assertEquals(3, config.get("steps").asInt(), "the flag wins over the file");
        assertEquals(2, config.get("batch_size").asInt(), "the file wins over the default 8");
        assertEquals(0.005, config.get("learning_rate").asDouble(), 0.0);
        assertEquals(0, config.get("warmup_steps").asInt(), "the default where neither sets it");

        Path json = tmp.resolve("job.json");
        Files.writeString(json, "{\"model\": \"" + model + "\", \"data\": \"" + text + "\", \"steps\": 2,"
                + " \"seq\": 8, \"held-out\": 0.25}");
        Path out2 = tmp.resolve("o2");
        CliTest.Run run2 = cli("pretrain", "--config=" + json, "--out", out2.toString());
        assertEquals(0, run2.status(), run2.err());
        JsonNode config2 = new ObjectMapper().readTree(out2.resolve("training.json").toFile()).get("train_spec");
        assertEquals(0.25, config2.get("held_out_fraction").asDouble(), 0.0);
        assertEquals(8, config2.get("batch_size").asInt());

        // --epochs on the command line replaces the file's steps (one group: --steps | --epochs)
        Path out3 = tmp.resolve("o3");
        CliTest.Run run3 = cli("pretrain", "--config", json.toString(), "--epochs", "1", "--out", out3.toString());
        assertEquals(0, run3.status(), run3.err());
        JsonNode config3 = new ObjectMapper().readTree(out3.resolve("training.json").toFile()).get("train_spec");
        assertEquals(1, config3.get("epochs").asInt());
        assertEquals(0, config3.get("steps").asInt());
    }

    @Test
    void flagsAndRequiredOptionsComeFromTheFile() throws Exception {
        Path yaml = tmp.resolve("init.yaml");
        Files.writeString(yaml, "family: llama\ndim: 16\nlayers: 1\nheads: 2\nffn: 32\nvocab: 256\nmax-seq: 8\n"
                + "tie-embeddings: true\n");
        Path out = tmp.resolve("tied");
        CliTest.Run run = cli("init-model", "--config", yaml.toString(), "--out", out.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode hf = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertTrue(hf.get("tie_word_embeddings").asBoolean());
        assertEquals(16, hf.get("hidden_size").asInt());

        Files.writeString(yaml, "family: llama\ntie-embeddings: yes please\n");
        CliTest.Run bad = cli("init-model", "--config", yaml.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("Cannot read config " + yaml + ": key 'tie-embeddings' is a flag; its value"
                + " must be true or false, not 'yes please'"), bad.err());
    }

    @Test
    void unknownKeysAndBadFilesAreErrors() throws Exception {
        Path yaml = tmp.resolve("bad.yaml");
        Files.writeString(yaml, "steps: 4\nlearning-rate: 0.1\n");
        CliTest.Run run = cli("pretrain", "--config", yaml.toString(), "--model", "m", "--data", "d", "--out", "o");
        assertEquals(2, run.status());
        assertTrue(run.err().startsWith("Error: Cannot read config " + yaml + ": unknown key 'learning-rate' for"
                + " command pretrain (its keys are batch, data, epochs, eval-every, format, grad-clip, held-out, lr,"
                + " model, out, seed, seq, steps, text-column, warmup, weight-decay)"), run.err());

        Files.writeString(yaml, "steps: 4\nsteps: 5\n");
        CliTest.Run dup = cli("score", "--config", yaml.toString());
        assertEquals(2, dup.status());
        assertTrue(dup.err().contains("Cannot read config " + yaml + ": ") && dup.err().contains("duplicate key"),
                dup.err());

        Files.writeString(yaml, "- a\n- b\n");
        CliTest.Run list = cli("score", "--config", yaml.toString());
        assertEquals(2, list.status());
        assertTrue(list.err().contains("Cannot read config " + yaml + ": expected a mapping of option names to"
                + " values, found ArrayList"), list.err());

        CliTest.Run missing = cli("score", "--config", tmp.resolve("nope.yaml").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("Cannot read config " + tmp.resolve("nope.yaml") + ": no such file"),
                missing.err());
    }

    @Test
    void listsBecomeCommaSeparatedValues() throws Exception {
        Path yaml = tmp.resolve("l.yaml");
        Files.writeString(yaml, "targets: [q_proj, v_proj]\nrank: 8\nrslora: true\n");
        ConfigFile config = ConfigFile.read(yaml);
        assertEquals("q_proj,v_proj", config.values().get("targets"));
        assertEquals("8", config.values().get("rank"));
        assertEquals("true", config.values().get("rslora"));

        Files.writeString(yaml, "targets:\n  q: 1\n");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> ConfigFile.read(yaml));
        assertEquals("Cannot read config " + yaml + ": key 'targets' holds a mapping; values are scalars or lists",
                e.getMessage());
    }
}
