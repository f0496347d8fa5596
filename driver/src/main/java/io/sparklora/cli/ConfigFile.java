package io.sparklora.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --config FILE}: a YAML (or JSON, which YAML reads too) mapping whose keys are a command's long option names
 * without the dashes ({@code batch: 8}, {@code text-column: body}, {@code targets: [q_proj, v_proj]}). Precedence: a
 * flag on the command line, then the file, then the option's own default. A key that is not an option of the command
 * is an error naming the key and the file, never ignored. Lists become comma-separated values.
 *
 * <p>The file's entries are handed to picocli as if typed before the user's own flags ({@link #expand}), skipping the
 * options the command line sets and, in a mutually exclusive group ({@code --steps | --epochs},
 * {@code --partition-by | --shards}), every member when the command line sets one. Going through the parser rather
 * than a default-value provider keeps required options and argument groups satisfiable from the file, and every
 * value gets the same conversion and checks as a flag.
 *
 * <p>Every subcommand with options gets the {@code --config} option from {@link #addOption}, so a command written
 * elsewhere needs nothing to support it.
 */
final class ConfigFile {
    static final String OPTION = "--config";
    private static final Set<String> NOT_SETTABLE = Set.of("config", "help", "version");

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
     * against that subcommand's options and returns the arguments with the file's entries inserted after the
     * subcommand's name (see the class comment); otherwise returns {@code args} unchanged.
     */
    static String[] expand(CommandLine cli, String[] args) throws IOException {
        int subAt = -1;
        Path file = null;
        Set<String> given = new HashSet<>(); // long option names on the command line, with dashes
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (subAt < 0) {
                if (!a.startsWith("-")) {
                    if (!cli.getSubcommands().containsKey(a)) {
                        return args; // picocli reports the unknown command
                    }
                    subAt = i;
                }
            } else if (a.equals("--")) {
                break;
            } else if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                given.add(name);
                if (name.equals(OPTION)) {
                    if (eq >= 0) {
                        file = Path.of(a.substring(eq + 1));
                    } else if (i + 1 < args.length) {
                        file = Path.of(args[++i]);
                    }
                }
            }
        }
        if (subAt < 0 || file == null) {
            return args;
        }
        CommandSpec command = cli.getSubcommands().get(args[subAt]).getCommandSpec();
        ConfigFile config = read(file);
        config.checkKeys(command);
        List<String> out = new ArrayList<>(Arrays.asList(args).subList(0, subAt + 1));
        for (Map.Entry<String, String> e : config.values.entrySet()) {
            OptionSpec option = command.findOption("--" + e.getKey());
            if (setOnCommandLine(option, given)) {
                continue;
            }
            if (option.arity().max() == 0) { // a flag: true sets it, false leaves its default
                if (!e.getValue().equals("true") && !e.getValue().equals("false")) {
                    throw new IOException("Cannot read config " + file + ": key '" + e.getKey() + "' is a flag; its"
                            + " value must be true or false, not '" + e.getValue() + "'");
                }
                if (e.getValue().equals("true")) {
                    out.add(option.longestName());
                }
            } else {
                out.add(option.longestName());
                out.add(e.getValue());
            }
        }
        out.addAll(Arrays.asList(args).subList(subAt + 1, args.length));
        return out.toArray(String[]::new);
    }

    /** Whether the command line sets this option, or another member of its mutually exclusive group. */
    private static boolean setOnCommandLine(OptionSpec option, Set<String> given) {
        if (Arrays.stream(option.names()).anyMatch(given::contains)) {
            return true;
        }
        ArgGroupSpec group = option.group();
        return group != null && group.exclusive() && group.options().stream()
                .anyMatch(o -> Arrays.stream(o.names()).anyMatch(given::contains));
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

    Map<String, String> values() {
        return values;
    }
}
