package io.sparklora.cli;

import io.sparklora.driver.RankSearch;
import io.sparklora.driver.RankSearchJob;
import io.sparklora.driver.SparkSessions;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.driver.TrainRequest;
import io.sparklora.report.Reports;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** {@code train --rank R | --rank auto [--rank-min] [--rank-max] [--rank-tolerance]}: resolves and runs the search. */
final class RankSearchOptions {
    static final String AUTO = "auto";
    private static final List<String> SEARCH_ONLY = List.of("--rank-min", "--rank-max", "--rank-tolerance");

    private RankSearchOptions() {
    }

    /** The rank of a fixed-rank run; under auto, the first rank of the search. */
    static int fixedRank(String rank, int rankMin) {
        if (rank.equals(AUTO)) {
            return rankMin;
        }
        try {
            return Integer.parseInt(rank);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid --rank " + rank + ": expected a positive integer or auto");
        }
    }

    /** The search of {@code --rank auto}, or null for a fixed rank (whose search options are then refused). */
    static RankSearch search(CommandSpec spec, String rank, int min, int max, double tolerance) {
        if (!rank.equals(AUTO)) {
            for (String option : SEARCH_ONLY) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    throw new IllegalArgumentException("Invalid " + option + " without --rank auto: a fixed --rank "
                            + rank + " searches nothing");
                }
            }
            return null;
        }
        if (spec.commandLine().getParseResult().hasMatchedOption("--existing")) {
            throw new IllegalArgumentException("Invalid --existing with --rank auto: the search keeps every rank it "
                    + "tried under _rank_search/ and retrains only ranks whose fingerprint is not committed there");
        }
        return new RankSearch(min, max, tolerance);
    }

    static int run(TrainRequest request, RankSearch search, String master, String out) throws Exception {
        try (SparkSessions.Session s = SparkSessions.open(master, "spark-lora train --rank auto")) {
            SparkTrainJob.Summary summary = RankSearchJob.run(s.spark(), request, search, System.out);
            System.out.println("Searched the rank of " + (summary.trained() + summary.existing() + summary.failed())
                    + " adapter(s): " + summary.trained() + " published, " + summary.existing() + " already there; "
                    + summary.failed() + " failed; " + summary.skipped() + " key(s) skipped. Manifest: " + summary.outUri()
                    + "/manifest.json");
            Reports.render(out, null, s.spark().sparkContext().hadoopConfiguration(), System.out); // + rank-search.csv
            return summary.failed() > 0 ? TrainCommand.SOME_FAILED : 0;
        }
    }
}
