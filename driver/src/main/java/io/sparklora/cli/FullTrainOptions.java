package io.sparklora.cli;

import io.sparklora.driver.FullTrainJob;
import io.sparklora.driver.SparkSessions;
import io.sparklora.driver.SparkTrainJob;
import io.sparklora.driver.TrainRequest;
import io.sparklora.report.Reports;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code train --full}: refuses the options that only mean something for LoRA (never silently ignored), then runs
 * {@link FullTrainJob} and renders the output's report (each model's loss curves, held-out loss, seconds, parameters).
 */
final class FullTrainOptions {
    /** Options of {@code train} that have no meaning for full fine-tuning. */
    static final List<String> LORA_ONLY = List.of("--rank", "--alpha", "--dropout", "--targets", "--rslora",
            "--existing");

    private FullTrainOptions() {
    }

    static int run(CommandSpec spec, TrainRequest request, String master) throws Exception {
        ParseResult parsed = spec.commandLine().getParseResult();
        for (String option : LORA_ONLY) {
            if (parsed.hasMatchedOption(option)) {
                throw new IllegalArgumentException("Invalid " + option + " with --full: full fine-tuning trains "
                        + "every weight" + (option.equals("--existing") ? " and retrains any model of another "
                        + "fingerprint" : ", no LoRA adapter"));
            }
        }
        try (SparkSessions.Session s = SparkSessions.open(master, "spark-lora train --full")) {
            SparkTrainJob.Summary summary = FullTrainJob.run(s.spark(), request, System.out);
            System.out.println("Trained " + summary.trained() + " model(s); " + summary.existing()
                    + " already complete; " + summary.failed() + " failed; " + summary.skipped()
                    + " key(s) skipped. Manifest: " + summary.outUri() + "/manifest.json");
            Reports.render(summary.outUri(), null, s.spark().sparkContext().hadoopConfiguration(), System.out);
            return summary.failed() > 0 ? TrainCommand.SOME_FAILED : 0;
        }
    }
}
