package io.sparklora.report;

import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * The report step of {@code train}, {@code eval} and {@code report}, for an output on any Hadoop file system. A local
 * output is rendered in place ({@link ReportWriter}); for {@code hdfs://}, {@code s3a://} and the like, the manifest
 * and training records are staged in a local temporary directory, rendered there, and the report's files uploaded to
 * {@code <out>/report/} (each file written whole; the old report's files are replaced). Without an eval matrix, the
 * one the previous report showed is kept. A {@code train --full} output's entries are its {@code models}. A
 * {@code sweep}'s output is rendered from its {@code plane.json}. A staged output's messages name its remote files.
 */
public final class Reports {
    private Reports() {
    }

    /**
     * Renders the report of a train output.
     *
     * @param outUri  the train output: a local path or a URI
     * @param evalUri the eval matrix JSON (local path or URI), or null to keep the previous report's
     * @param conf    Hadoop configuration for non-local URIs (S3A credentials, HDFS address)
     * @param log     where to say what was written
     */
    public static void render(String out, String evalPath, Configuration conf, PrintStream log)
            throws IOException {
        String outUri = qualified(out, conf);
        String evalUri = evalPath == null ? null : qualified(evalPath, conf);
        Path local = localPath(outUri);
        if (local != null) {
            EvalMatrix eval = evalUri != null ? readEval(evalUri, conf) : ReportWriter.previousEval(local);
            ReportWriter.Written w = ReportWriter.write(TrainOutput.read(local), eval);
            log.println("Report: " + w.dir().resolve(ReportWriter.INDEX));
            return;
        }
        renderStaged(outUri, evalUri, conf, log);
    }

    /** Renders through a local staging directory, reading and writing {@code outUri} with Hadoop. */
    static void renderStaged(String outUri, String evalUri, Configuration conf, PrintStream log) throws IOException {
        Path stage = Files.createTempDirectory("spark-lora-report");
        try {
            org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(outUri);
            FileSystem fs = out.getFileSystem(conf);
            org.apache.hadoop.fs.Path plane = new org.apache.hadoop.fs.Path(out, TrainOutput.PLANE);
            boolean sweep = fs.exists(plane);
            if (sweep) {
                download(fs, plane, stage.resolve(TrainOutput.PLANE), outUri);
            }
            org.apache.hadoop.fs.Path manifest = new org.apache.hadoop.fs.Path(out, TrainOutput.MANIFEST);
            List<ManifestFile.Adapter> entries = List.of();
            String field = TrainOutput.Entries.ADAPTERS.field();
            if (!sweep || fs.exists(manifest)) { // a sweep's output has only plane.json
                download(fs, manifest, stage.resolve(TrainOutput.MANIFEST), outUri);
                // refused here, naming the remote file, before any training record is fetched
                ManifestFile m = ManifestFile.read(Files.readAllBytes(stage.resolve(TrainOutput.MANIFEST)),
                        manifest.toString());
                TrainOutput.Entries of = TrainOutput.Entries.of(m); // train --full: its models
                field = of.field();
                entries = of.in(m);
            }
            // a large output's report reads the records of the few adapters it draws, not one per adapter
            java.util.Set<String> needed = entries.size() > ReportWriter.CURVES_FOR_ALL
                    ? CurveSelection.of(TrainOutput.read(stage, out.toString()).adapters()).keySet() : null;
            for (ManifestFile.Adapter a : entries) {
                if (a == null || a.name() == null || a.isFailed() || needed != null && !needed.contains(a.name())) {
                    continue; // TrainOutput.read refuses an entry without a name, naming the manifest
                }
                String rel = a.path() != null ? a.path() : field + "/" + a.name();
                Path dest = stage.resolve(rel).normalize();
                if (!dest.startsWith(stage)) {
                    continue; // TrainOutput.read refuses it with the message naming the manifest
                }
                download(fs, new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(out, rel),
                        TrainOutput.TRAINING_RECORD), dest.resolve(TrainOutput.TRAINING_RECORD), outUri);
            }
            org.apache.hadoop.fs.Path remoteReport = new org.apache.hadoop.fs.Path(out, ReportWriter.DIR);
            org.apache.hadoop.fs.Path previous = new org.apache.hadoop.fs.Path(remoteReport, ReportWriter.EVAL_COPY);
            EvalMatrix eval = null;
            if (evalUri != null) {
                eval = readEval(evalUri, conf);
            } else if (fs.exists(previous)) {
                Path copy = stage.resolve("previous-" + ReportWriter.EVAL_COPY);
                download(fs, previous, copy, outUri);
                eval = EvalMatrix.read(copy);
            }
            ReportWriter.Written w = ReportWriter.write(TrainOutput.read(stage, out.toString()), eval, outUri);
            fs.delete(remoteReport, true);
            for (String file : w.files()) {
                try (InputStream in = Files.newInputStream(w.dir().resolve(file));
                     OutputStream os = fs.create(new org.apache.hadoop.fs.Path(remoteReport, file), true)) {
                    in.transferTo(os);
                }
            }
            log.println("Report: " + new org.apache.hadoop.fs.Path(remoteReport, ReportWriter.INDEX));
        } finally {
            deleteQuietly(stage);
        }
    }

    private static EvalMatrix readEval(String uri, Configuration conf) throws IOException {
        Path local = localPath(uri);
        if (local != null) {
            return EvalMatrix.read(local);
        }
        Path tmp = Files.createTempFile("spark-lora-eval", ".json");
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
            download(p.getFileSystem(conf), p, tmp, uri);
            return EvalMatrix.read(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void download(FileSystem fs, org.apache.hadoop.fs.Path from, Path to, String what)
            throws IOException {
        if (!fs.exists(from)) {
            throw new IOException("Cannot render the report of " + what + ": no " + from);
        }
        Files.createDirectories(to.getParent());
        try (InputStream in = fs.open(from)) {
            Files.copy(in, to);
        }
    }

    /**
     * A path without a scheme resolved as Hadoop resolves it (against {@code fs.defaultFS} and the working
     * directory): on a cluster whose default file system is HDFS, {@code runs/x} is on HDFS, as train wrote it.
     */
    static String qualified(String path, Configuration conf) throws IOException {
        if (hasScheme(path)) {
            return path;
        }
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        return p.getFileSystem(conf).makeQualified(p).toString();
    }

    private static boolean hasScheme(String uri) {
        int colon = uri.indexOf(':');
        int slash = uri.indexOf('/');
        return colon > 1 && (slash < 0 || colon < slash);
    }

    /** The local path of a plain path or a {@code file:} URI; null for any other scheme. */
    static Path localPath(String uri) {
        if (!hasScheme(uri)) {
            return Path.of(uri);
        }
        URI u = URI.create(uri);
        return "file".equalsIgnoreCase(u.getScheme()) ? Path.of(u) : null;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the OS cleans it eventually
        }
    }
}
