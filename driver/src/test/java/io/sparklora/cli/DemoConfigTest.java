package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The shipped conf/demo.yaml names only train options and points at the shipped model and data. */
class DemoConfigTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize(); // surefire runs in driver/

    @Test
    void demoConfigIsAValidTrainJobFile() throws Exception {
        Path file = ROOT.resolve("conf/demo.yaml");
        CommandLine cli = new CommandLine(new SparkLoraCli());
        ConfigFile.addOption(cli);
        ConfigFile config = ConfigFile.read(file);
        config.checkKeys(cli.getSubcommands().get("train").getCommandSpec()); // throws on an unknown key
        List<String> args = Arrays.asList(ConfigFile.expand(cli, new String[] {"train", "--config", file.toString()}));
        assertEquals("lang", args.get(args.indexOf("--partition-by") + 1));
        assertEquals("all-linear", args.get(args.indexOf("--targets") + 1));

        Path model = ROOT.resolve(config.values().get("model"));
        assertTrue(Files.isRegularFile(model.resolve("config.json")), model.toString());
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")), model.toString());
        assertTrue(Files.isRegularFile(ROOT.resolve(config.values().get("data"))));
    }
}
