package io.sparklora.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options {@code score} and {@code generate} take to run over a dataset on Spark instead of one local input: the
 * train output, the data, the column naming each row's adapter, the result file.
 */
final class DatasetOptions {
    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", description = "rows to run over on Spark (JSONL, Parquet or CSV, any Hadoop URI)")
    String data;

    @Option(names = "--data-format", description = "jsonl, parquet or csv (default: by the --data extension, jsonl)")
    String dataFormat;

    @Option(names = "--adapters", description = "with --data: the --out of a train run (holds manifest.json)")
    String adapters;

    @Option(names = "--adapter-column", description = "with --data: the column naming each row's adapter (base, an "
            + "adapter name, or auto / empty to route)")
    String adapterColumn;

    @Option(names = "--out", description = "with --data: the result file, *.jsonl or *.parquet (written atomically)")
    String out;

    @Option(names = "--format", description = "with --data: jsonl or parquet (default: by the --out extension)")
    String format;

    @Option(names = "--master", description = "with --data: Spark master URL (default: the active session or "
            + "local[*])")
    String master;

    /** A usage error of the command (exit status 2, like any other wrong combination of options). */
    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * Whether the command runs over a dataset: {@code --data} is given (then every dataset option it needs must be,
     * and the local input {@code localOption} must not), or not (then no dataset option may be).
     *
     * @param localGiven the local input's option name when it was given, else null
     */
    boolean given(String command, String localGiven, String localOption) {
        if (data == null) {
            for (Object[] o : new Object[][] {{"--adapters", adapters}, {"--adapter-column", adapterColumn},
                    {"--out", out}, {"--format", format}, {"--data-format", dataFormat}}) {
                if (o[1] != null) {
                    throw usage("Invalid " + o[0] + ": it applies only with --data");
                }
            }
            if (localGiven == null) {
                throw usage("Cannot " + command + ": give " + localOption + ", or --data with "
                        + "--adapters, --adapter-column and --out");
            }
            return false;
        }
        if (localGiven != null) {
            throw usage("Invalid " + localGiven + " with --data: give one of them");
        }
        for (Object[] o : new Object[][] {{"--adapters", adapters}, {"--adapter-column", adapterColumn},
                {"--out", out}}) {
            if (o[1] == null) {
                throw usage("Cannot " + command + " --data " + data + ": " + o[0]
                        + " is missing");
            }
        }
        return true;
    }
}
