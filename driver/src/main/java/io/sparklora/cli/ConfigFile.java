package io.sparklora.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --config FILE}: a YAML (or JSON, which YAML reads too) mapping whose keys are a command's long option names
 * without the dashes ({@code batch: 8}, {@code text-column: body}, {@code targets: [q_proj, v_proj]}). It acts as
 * picocli's default-value provider, so precedence is: a flag on the command line, then the file, then the option's
 * own default. A key that is not an option of the command is an error naming the key and the file, never ignored.
 * Lists become comma-separated values.
 *
 * <p>Every subcommand with options gets the {@code --config} option from {@link #addOption}, so a command written
 * elsewhere needs nothing to support it.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {
    static final String OPTION = "--config";
    private static final java.util.Set<String> NOT_SETTABLE = java.util.Set.of("config", "help", "version");

    private final Path file;
    private final Map<String, String> values;

    private ConfigFile(Path file, Map<String, String> values) {
        this.file = file;
        this.values = values;
    }

    /** Adds {@code --config FILE} to every subcommand of {@code cli} that has options of its own. */
    static void addOption(CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            boolean hasOwnOptions = spec.options().stream().anyMatch(o -> !NOT_SETTABLE.contains(key(o)));
            if (hasOwnOptions && spec.findOption(OPTION) == null) {
                spec.addOption(OptionSpec.builder(OPTION).paramLabel("FILE").type(Path.class)
                        .description("YAML or JSON file setting options by their long names without --"
                                + " (flags given here win)").build());
            }
        }
    }

    /**
     * When the command line names a subcommand and gives it {@code --config FILE}, reads the file, checks its keys
     * against that subcommand's options and installs it as the subcommand's default-value provider.
     */
    static void applyTo(CommandLine cli, String[] args) throws IOException {
        CommandLine sub = null;
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (sub == null) {
                if (!a.startsWith("-")) {
                    sub = cli.getSubcommands().get(a);
                    if (sub == null) {
                        return; // picocli reports the unknown command
                    }
                }
            } else if (a.equals(OPTION) && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (a.startsWith(OPTION + "=")) {
                file = Path.of(a.substring(OPTION.length() + 1));
            } else if (a.equals("--")) {
                break;
            }
        }
        if (sub == null || file == null) {
            return;
        }
        ConfigFile config = read(file);
        config.checkKeys(sub.getCommandSpec());
        sub.setDefaultValueProvider(config);
    }

    /** Reads the file into key → option value. */
    static ConfigFile read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read config " + file + ": no such file");
        }
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        Object doc;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            doc = new Yaml(new SafeConstructor(options)).load(in);
        } catch (YAMLException e) {
            throw new IOException("Cannot read config " + file + ": " + e.getMessage().strip(), e);
        }
        if (doc == null) {
            return new ConfigFile(file, Map.of());
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new IOException("Cannot read config " + file + ": expected a mapping of option names to values,"
                    + " found " + doc.getClass().getSimpleName());
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            values.put(key, valueOf(file, key, e.getValue()));
        }
        return new ConfigFile(file, values);
    }

    private static String valueOf(Path file, String key, Object v) throws IOException {
        if (v == null) {
            throw new IOException("Cannot read config " + file + ": key '" + key + "' has no value");
        }
        if (v instanceof Map<?, ?>) {
            throw new IOException("Cannot read config " + file + ": key '" + key + "' holds a mapping; values are"
                    + " scalars or lists");
        }
        if (v instanceof List<?> list) {
            StringBuilder s = new StringBuilder();
            for (Object item : list) {
                if (item == null || item instanceof Map<?, ?> || item instanceof List<?>) {
                    throw new IOException("Cannot read config " + file + ": key '" + key + "' holds a list whose"
                            + " items are not all scalars");
                }
                s.append(s.length() == 0 ? "" : ",").append(item);
            }
            return s.toString();
        }
        return v.toString();
    }

    /** Fails on the first key (in file order) that is not a long option of {@code command}. */
    void checkKeys(CommandSpec command) throws IOException {
        TreeSet<String> known = command.options().stream().map(ConfigFile::key)
                .filter(k -> !NOT_SETTABLE.contains(k)).collect(Collectors.toCollection(TreeSet::new));
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new IOException("Cannot read config " + file + ": unknown key '" + key + "' for command "
                        + command.name() + " (its keys are " + String.join(", ", known) + ")");
            }
        }
    }

    /** The option's longest name without the leading dashes: {@code --text-column} → {@code text-column}. */
    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        return arg instanceof OptionSpec option ? values.get(key(option)) : null;
    }

    Map<String, String> values() {
        return values;
    }
}
