package io.sparklora.cli;

import io.sparklora.report.Reports;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code report}: (re)renders {@code <out>/report/} from an existing train output, optionally with an eval matrix. Runs
 * without Spark; a non-local output is read and written through Hadoop with its default configuration (core-site.xml
 * on the class path).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Render report/ (loss-curve PNGs, eval heat map, index.html) of an existing train output.")
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "the train output (holds manifest.json): a local path,"
            + " or a file://, hdfs:// or s3a:// URI")
    String out;

    @Option(names = "--eval", description = "eval matrix JSON written by the eval command (default: the one the"
            + " existing report shows, if any)")
    String eval;

    @Override
    public Integer call() throws Exception {
        Reports.render(out, eval, LocalHadoopConf.create(), System.out);
        return 0;
    }
}
