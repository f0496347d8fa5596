package io.sparklora.cli;

import io.sparklora.driver.Plane;
import io.sparklora.driver.SparkSessions;
import io.sparklora.driver.SweepGrid;
import io.sparklora.driver.SweepJob;
import io.sparklora.driver.TrainRequest;
import io.sparklora.report.Reports;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sweep}: the plane of target modules × rank (and, with {@code --full}, its full fine-tuning corner) for every
 * partition, with {@code train}'s data, split and training options (taken from {@link TrainCommand} itself, so the
 * two cannot drift apart). The options that pick one point of the plane are hidden and refused: the grid gives them.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Train every (targets, rank) point of the plane, and with --full its full fine-tuning corner, "
                + "for every partition as one Spark job; write plane.json and report/ (index.html, plane-*.png). Takes train's "
                + "data, split and training options; --full adds the full fine-tuning corner (points/full/, with its "
                + "own report as train --full writes it).")
final class SweepCommand implements Callable<Integer> {
    /** Options of {@code train} that choose one point, or a search: the sweep's grid replaces them. */
    static final List<String> ONE_POINT = List.of("--rank", "--rank-min", "--rank-max", "--rank-tolerance",
            "--targets", "--tree", "--path-rank", "--existing");

    @Mixin
    TrainCommand train;

    /**
     * Hides the one-point options of the mixed-in {@code train} from {@code --help}; they are still parsed (so their
     * defaults reach {@link TrainCommand#request}) and refused by {@link #call} when given.
     */
    static void hideOnePointOptions(CommandLine sweep) {
        for (String name : ONE_POINT) {
            CommandLine.Model.OptionSpec option = sweep.getCommandSpec().findOption(name);
            sweep.getCommandSpec().remove(option);
            sweep.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder(option).hidden(true).build());
        }
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--ranks", required = true, description = "ranks of the plane, comma-separated (e.g. 1,2,4,8)")
    String ranks;

    @Option(names = "--targets-grid", required = true, description = "target sets separated by ';', modules by ',' "
            + "(e.g. 'q_proj,v_proj;all-linear')")
    String targetsGrid;

    @Option(names = "--tolerance", defaultValue = "0.01", description = "relative held-out loss above the best that is"
            + " still adequate (default: ${DEFAULT-VALUE})")
    double tolerance;

    @Override
    public Integer call() throws Exception {
        for (String option : ONE_POINT) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new IllegalArgumentException("Invalid " + option + " with sweep: --ranks and --targets-grid "
                        + "give every point of the plane");
            }
        }
        if (train.adaptersPerTask != null) {
            throw new IllegalArgumentException("Invalid --adapters-per-task " + train.adaptersPerTask + " with sweep: "
                    + "the sweep trains each point's adapters one by one");
        }
        if (!(tolerance >= 0) || !Double.isFinite(tolerance)) {
            throw new IllegalArgumentException("Invalid --tolerance " + tolerance + ": must be >= 0");
        }
        SweepGrid grid = SweepGrid.parse(ranks, targetsGrid);
        TrainRequest request = train.request();
        try (SparkSessions.Session s = SparkSessions.open(train.master, "spark-lora sweep")) {
            var conf = s.spark().sparkContext().hadoopConfiguration();
            List<Plane.Point> points = SweepJob.run(s.spark(), request, grid, train.full, System.out);
            String outUri = new org.apache.hadoop.fs.Path(request.out()).getFileSystem(conf)
                    .makeQualified(new org.apache.hadoop.fs.Path(request.out())).toString();
            Plane.write(Plane.json(points, tolerance), outUri, conf);
            if (train.full) { // the corner is a train --full output: the same report, its models' loss curves
                Reports.render(outUri + "/" + SweepJob.FULL_CORNER, null, conf, System.out);
            }
            Reports.render(outUri, null, conf, System.out); // the plane section and charts, from plane.json
            int failed = 0;
            for (var e : Plane.byPartition(points).entrySet()) {
                Plane.Point best = Plane.best(e.getValue());
                Plane.Point small = Plane.smallestAdequate(e.getValue(), tolerance);
                failed += (int) e.getValue().stream().filter(p -> !Double.isFinite(p.heldOutLoss())).count();
                System.out.println(best == null ? "Partition " + e.getKey() + ": every point failed"
                        : String.format(Locale.ROOT, "Partition %s: best %s (%.4f, %,d parameters); smallest within"
                        + " %.1f%%: %s (%.4f, %,d parameters)", e.getKey(), describe(best), best.heldOutLoss(),
                        best.trainableParams(), 100 * tolerance, describe(small), small.heldOutLoss(),
                        small.trainableParams()));
            }
            System.out.println("Swept " + points.size() + " point(s), " + failed + " failed. Plane: " + outUri + "/"
                    + Plane.FILE + "; charts: report/plane-<name>.png, report/plane-frontier.png");
            return failed > 0 ? TrainCommand.SOME_FAILED : 0;
        }
    }

    private static String describe(Plane.Point p) {
        return p.full() ? Plane.FULL : p.targetsId() + " r" + p.rank();
    }
}
