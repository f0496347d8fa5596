package io.sparklora.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.driver.SparkSessions;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.report.Reports;
import io.sparklora.util.StrictJson;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-many}: the wall cost of one more adapter when a job trains thousands of tiny ones, where per-adapter
 * overheads (task launch, files, probes, hashing, report) dominate and compute is negligible. Trains a micro model
 * ({@link ManyAdaptersFixture}) on {@code --small} and {@code --large} keys with exactly the {@code train} command's
 * path (its options, {@link SparkTrainJob}, the report) in one Spark session, each into a fresh output, and prints
 * one JSON line: T(small), T(large), the marginal milliseconds per adapter (T(large) − T(small)) / (large − small)
 * and the same per stage (planning, training stage, manifest, report). A warm-up run at the small size first takes
 * the JVM's and Spark's start-up out of both figures; with {@code --runs} above one, each figure is the median.
 */
@Command(name = "bench-many", mixinStandardHelpOptions = true,
        description = "Print the marginal wall cost of one more tiny adapter on Spark (T(large) - T(small)) / "
                + "(large - small) as JSON, with a breakdown by stage.")
final class BenchManyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--small", defaultValue = "20", description = "keys of the small run (default: ${DEFAULT-VALUE})")
    int small;

    @Option(names = "--large", defaultValue = "2000", description = "keys of the large run (default: "
            + "${DEFAULT-VALUE})")
    int large;

    @Option(names = "--runs", defaultValue = "1", description = "measured runs of each size; figures are medians "
            + "(default: ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master;

    @Option(names = "--adapters-per-task", description = "train's --adapters-per-task (default: train's default "
            + "rule, which fuses these small adapters in groups of 4 when there are enough of them)")
    Integer adaptersPerTask;

    @Option(names = "--keep", description = "keep the temporary directory (model, data, outputs) and print its path")
    boolean keep;

    private static final List<String> STAGES = List.of("plan", "train", "manifest", "report");

    @Override
    public Integer call() throws Exception {
        if (small < 1 || large <= small || runs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Cannot run bench-many: expected "
                    + "1 <= --small < --large and --runs >= 1, got --small " + small + " --large " + large
                    + " --runs " + runs);
        }
        Path dir = Files.createTempDirectory("spark-lora-bench-many");
        try {
            Path model = ManyAdaptersFixture.writeModel(dir.resolve("model"));
            Path smallData = ManyAdaptersFixture.writeData(dir.resolve("data-" + small + ".jsonl"), small);
            Path largeData = ManyAdaptersFixture.writeData(dir.resolve("data-" + large + ".jsonl"), large);
            List<Map<String, Double>> smallRuns = new ArrayList<>();
            List<Map<String, Double>> largeRuns = new ArrayList<>();
            try (SparkSessions.Session s = SparkSessions.open(master, "spark-lora bench-many")) {
                s.spark().sparkContext().setLogLevel("WARN");
                trainOnce(s, model, smallData, dir.resolve("out-warmup")); // JIT and Spark warm-up, not measured
                for (int i = 0; i < runs; i++) {
                    smallRuns.add(trainOnce(s, model, smallData, dir.resolve("out-small-" + i)));
                    largeRuns.add(trainOnce(s, model, largeData, dir.resolve("out-large-" + i)));
                }
            }
            System.out.println(StrictJson.MAPPER.writeValueAsString(result(smallRuns, largeRuns)));
            if (keep) {
                System.err.println("bench-many: kept " + dir);
            }
        } finally {
            if (!keep) {
                OutputDirs.deleteRecursively(dir);
            }
        }
        return 0;
    }

    /** One {@code train} as the command runs it (quiet); seconds per stage and in all. */
    private Map<String, Double> trainOnce(SparkSessions.Session s, Path model, Path data, Path out) throws Exception {
        TrainCommand train = new TrainCommand();
        List<String> args = new ArrayList<>(List.of(ManyAdaptersFixture.trainArgs(model, data, out)));
        if (adaptersPerTask != null) {
            args.addAll(List.of("--adapters-per-task", adaptersPerTask.toString()));
        }
        new CommandLine(train).parseArgs(args.toArray(String[]::new));
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        long c0 = cpuNanos();
        long t0 = System.nanoTime();
        SparkTrainJob.Summary summary = SparkTrainJob.run(s.spark(), train.request(), quiet);
        long t1 = System.nanoTime();
        Reports.render(out.toString(), null, s.spark().sparkContext().hadoopConfiguration(), quiet);
        long t2 = System.nanoTime();
        long c2 = cpuNanos();
        if (summary.failed() > 0 || summary.skipped() > 0) {
            throw new IllegalStateException("Cannot run bench-many: " + summary.failed() + " adapter(s) failed and "
                    + summary.skipped() + " key(s) were skipped in " + out);
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        seconds.put("total", (t2 - t0) / 1e9);
        seconds.put("plan", summary.seconds().plan());
        seconds.put("train", summary.seconds().train());
        seconds.put("manifest", summary.seconds().manifest());
        seconds.put("report", (t2 - t1) / 1e9);
        seconds.put("cpu", (c2 - c0) / 1e9);
        return seconds;
    }

    /**
     * CPU time of this JVM (driver and local executors), every thread: on a machine shared with other work the wall
     * clock measures the neighbours as much as the job, the CPU time only the job.
     */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private ObjectNode result(List<Map<String, Double>> smallRuns, List<Map<String, Double>> largeRuns) {
        ObjectNode o = StrictJson.MAPPER.createObjectNode();
        o.put("bench", "many-adapters");
        o.put("master", master);
        o.put("model", ManyAdaptersFixture.DESCRIPTION);
        o.put("small_keys", small);
        o.put("large_keys", large);
        o.put("runs", runs);
        o.put("adapters_per_task", adaptersPerTask == null ? "train's default" : adaptersPerTask.toString());
        double tSmall = median(smallRuns, "total");
        double tLarge = median(largeRuns, "total");
        o.put("t_small_s", round(tSmall, 3));
        o.put("t_large_s", round(tLarge, 3));
        o.put("per_adapter_ms", round(marginalMs(tSmall, tLarge), 2));
        ArrayNode each = o.putArray("per_adapter_ms_runs");
        for (int i = 0; i < runs; i++) {
            each.add(round(marginalMs(smallRuns.get(i).get("total"), largeRuns.get(i).get("total")), 2));
        }
        double cSmall = median(smallRuns, "cpu");
        double cLarge = median(largeRuns, "cpu");
        o.put("cpu_small_s", round(cSmall, 3));
        o.put("cpu_large_s", round(cLarge, 3));
        o.put("cpu_per_adapter_ms", round(marginalMs(cSmall, cLarge), 2));
        o.put("load_average", round(java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage(), 2));
        ObjectNode stages = o.putObject("stages");
        for (String stage : STAGES) {
            double a = median(smallRuns, stage);
            double b = median(largeRuns, stage);
            stages.putObject(stage).put("t_small_s", round(a, 3)).put("t_large_s", round(b, 3))
                    .put("per_adapter_ms", round(marginalMs(a, b), 2));
        }
        return o;
    }

    private double marginalMs(double tSmall, double tLarge) {
        return (tLarge - tSmall) * 1000 / (large - small);
    }

    private static double median(List<Map<String, Double>> runs, String key) {
        double[] v = runs.stream().mapToDouble(m -> m.get(key)).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }
}
