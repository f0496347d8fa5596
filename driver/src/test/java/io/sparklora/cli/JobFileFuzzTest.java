package io.sparklora.cli;

import io.sparklora.fuzz.Fuzz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Fuzzes {@code --config FILE} (YAML, and JSON as YAML reads it) over mutants of the shipped job files: each expands
 * into a command line, or fails with an IOException naming the file (see {@link Fuzz}). The expanded line then goes
 * through picocli as {@code spark-lora} parses it, where a bad value is picocli's ParameterException naming the
 * option — the message a user sees for the same value typed as a flag.
 */
class JobFileFuzzTest {
    @TempDir
    Path tmp;

    @Test
    void mutatedJobFiles() throws IOException {
        List<byte[]> seeds = new java.util.ArrayList<>();
        for (String f : List.of("demo.yaml", "train-by-key.yaml", "train-shards.yaml", "qwen-bpe.yaml")) {
            seeds.add(Files.readAllBytes(Path.of("..", "conf", f)));
        }
        seeds.add(("{\"model\": \"models/demo-base\", \"data\": \"d.jsonl\", \"shards\": 4, \"targets\": [\"q_proj\","
                + " \"v_proj\"], \"rank\": 8, \"lr\": 0.002, \"rslora\": false, \"out\": \"runs/x\"}").getBytes());
        seeds.add(("# anchors, aliases, flow and block lists\nmodel: &m models/demo-base\ndata: *m\n"
                + "partition-by: lang\ntargets:\n  - q_proj\n  - v_proj\nsteps: 10\nout: 'runs/y'\n").getBytes());
        CommandLine cli = new CommandLine(new SparkLoraCli());
        ConfigFile.addOption(cli);
        Path file = tmp.resolve("job.yaml");
        Fuzz.run("job-file", 8_000, seeds, true, file.toString(), input -> {
            Files.write(file, input);
            String[] args = ConfigFile.expand(cli, new String[] {"train", "--config", file.toString()});
            try {
                cli.parseArgs(args);
            } catch (CommandLine.ParameterException e) {
                if (e.getMessage() == null || e.getMessage().isBlank()) {
                    throw new AssertionError("picocli refused without a message", e);
                }
            }
        }, IOException.class);
    }
}
