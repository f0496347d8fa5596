package io.sparklora.cli;

import io.sparklora.driver.SparkEvalJob;
import io.sparklora.driver.SparkSessions;
import io.sparklora.report.Reports;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code eval}: every adapter of a train output and the base on every partition's held-out rows, on Spark. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Held-out loss and perplexity of every adapter (and the base) on every partition.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "base model directory")
    String model;

    @Option(names = "--adapters", required = true, description = "the --out of a train run (holds manifest.json)")
    String adapters;

    @Option(names = "--data", description = "data to evaluate on (default: the train run's --data)")
    String data;

    @Option(names = "--partition-by", description = "column whose values are the matrix columns (default: the train "
            + "run's split)")
    String partitionBy;

    @Option(names = "--out", required = true, description = "JSON file to write the matrix to")
    String out;

    @Option(names = "--pairs", defaultValue = "auto", description = "all: every adapter on every partition; sampled:"
            + " each partition's own adapter and --sample others; auto: all up to 256 adapters, else sampled "
            + "(default: ${DEFAULT-VALUE})")
    String pairs;

    @Option(names = "--sample", defaultValue = "8", description = "other adapters per partition under sampled "
            + "pairs (default: ${DEFAULT-VALUE})")
    int sample;

    @Option(names = "--spill-rows", description = "a partition of more rows packs its held-out windows into a file on "
            + "the executor's local disk, read once per adapter (default: the train run's --spill-rows)")
    Long spillRows;

    @Option(names = "--master", description = "Spark master URL (default: the active session or local[*])")
    String master;

    @Override
    public Integer call() throws Exception {
        try (SparkSessions.Session s = SparkSessions.open(master, "spark-lora eval")) {
            boolean sampled = SparkEvalJob.run(s.spark(), model, adapters, data, partitionBy, pairs, sample,
                    spillRows, out, System.out).has("pairs");
            System.out.println("Wrote " + out);
            // the report's matrix section is for the full matrix; a sampled one is read from its JSON
            Reports.render(adapters, sampled ? null : out, s.spark().sparkContext().hadoopConfiguration(),
                    System.out);
        }
        return 0;
    }
}
