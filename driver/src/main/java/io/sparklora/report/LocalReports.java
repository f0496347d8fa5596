package io.sparklora.report;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The report step at the end of {@code train} and {@code eval}: renders {@code <out>/report/} when the output is on
 * the local file system. For {@code hdfs://} and {@code s3a://} outputs it says how to render it from a local copy
 * (the report writer works on local directories only). Without an eval matrix, the one the previous report showed is
 * kept.
 */
public final class LocalReports {
    private LocalReports() {
    }

    /**
     * Renders the report of a train output.
     *
     * @param outUri  the train output, a local path or URI
     * @param evalUri the eval matrix JSON, a local path or URI, or null
     * @param log     where to say what was written
     */
    public static void render(String outUri, String evalUri, PrintStream log) throws IOException {
        Path out = localPath(outUri);
        Path eval = evalUri != null ? localPath(evalUri) : null;
        if (out == null || (evalUri != null && eval == null)) {
            log.println("Report: not rendered for a non-local output; copy it locally (hadoop fs -get) and run "
                    + "spark-lora report --out DIR" + (evalUri != null ? " --eval FILE" : ""));
            return;
        }
        if (!Files.isRegularFile(out.resolve(TrainOutput.MANIFEST))) {
            throw new IOException("Cannot render the report of " + outUri + ": no " + TrainOutput.MANIFEST);
        }
        EvalMatrix matrix = eval != null ? EvalMatrix.read(eval) : ReportWriter.previousEval(out);
        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), matrix);
        log.println("Report: " + w.dir().resolve(ReportWriter.INDEX));
    }

    /** The local path of a plain path or a {@code file:} URI; null for any other scheme. */
    static Path localPath(String uri) {
        int colon = uri.indexOf(':');
        int slash = uri.indexOf('/');
        boolean hasScheme = colon > 1 && (slash < 0 || colon < slash);
        if (!hasScheme) {
            return Path.of(uri);
        }
        URI u = URI.create(uri);
        return "file".equalsIgnoreCase(u.getScheme()) ? Path.of(u) : null;
    }
}
