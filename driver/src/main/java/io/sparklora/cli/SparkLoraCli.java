package io.sparklora.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code submit/spark-lora} and of {@code spark-submit --class io.sparklora.cli.SparkLoraCli}.
 * Options are kebab-case; each subcommand is one class. Failures print one line, {@code Error: <message>}, and exit
 * with status 1; usage errors (and a bad {@code --config} file) exit with status 2. Every command with options also
 * takes {@code --config FILE} ({@link ConfigFile}).
 */
@Command(name = "spark-lora", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Train LoRA adapters for a frozen Hugging Face base model in parallel on Apache Spark.",
        subcommands = {InitModelCommand.class, ScoreCommand.class, TrainCommand.class, EvalCommand.class,
                PretrainCommand.class, MergeCommand.class, CombineCommand.class, ExtractCommand.class,
                GenerateCommand.class, ServeCommand.class, ReportCommand.class, BenchCommand.class,
                BenchServeCommand.class, BenchGenerateCommand.class, BenchManyCommand.class, DemoCommand.class,
                TrainTokenizerCommand.class, SweepCommand.class,
                CommandLine.HelpCommand.class})
public final class SparkLoraCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit status, without exiting the JVM (for tests). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new SparkLoraCli());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("Error: " + describe(ex));
            err.flush();
            return 1;
        });
        SweepCommand.hideOnePointOptions(cli.getSubcommands().get("sweep"));
        ConfigFile.addOption(cli);
        String[] expanded;
        try {
            expanded = ConfigFile.expand(cli, args);
        } catch (java.io.IOException e) {
            cli.getErr().println("Error: " + e.getMessage());
            cli.getErr().flush();
            return 2;
        }
        return cli.execute(expanded);
    }

    /** The message of the failure, falling back to the exception's class when it has none. */
    static String describe(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }
}
