package io.sparklora.cli;

import io.sparklora.report.EvalMatrix;
import io.sparklora.report.ReportWriter;
import io.sparklora.report.TrainOutput;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code report}: (re)renders {@code <out>/report/} from an existing train output, optionally with an eval matrix. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Render report/ (loss-curve PNGs, eval heat map, index.html) of an existing train output.")
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "the train output directory (holds manifest.json)")
    Path out;

    @Option(names = "--eval", description = "eval matrix JSON written by the eval command (default: the one the"
            + " existing report shows, if any)")
    Path eval;

    @Override
    public Integer call() throws Exception {
        TrainOutput output = TrainOutput.read(out);
        EvalMatrix matrix = eval != null ? EvalMatrix.read(eval) : ReportWriter.previousEval(output.dir());
        ReportWriter.Written written = ReportWriter.write(output, matrix);
        System.out.println("Wrote " + written.dir().resolve(ReportWriter.INDEX) + " (" + output.adapters().size()
                + " adapters, " + written.files().size() + " files)");
        return 0;
    }
}
