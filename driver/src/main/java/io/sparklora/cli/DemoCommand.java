package io.sparklora.cli;

import io.sparklora.report.EvalMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code demo}: the embedded default. Trains one adapter per language of the shipped fortunes over the shipped base
 * model ({@code conf/demo.yaml}), in {@code local[*]}, evaluates every adapter and the base on every language's
 * held-out rows, renders the report, and prints the loss matrix with the point of LoRA checked: each language's adapter
 * must be the best model on its own language and beat the base there.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train one adapter per language on the shipped sample data in local[*] and write a report.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", description = "output directory (default: ${DEFAULT-VALUE})")
    String out;

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master;

    @Option(names = "--home", description = "the spark-lora checkout holding conf/, models/ and data/ "
            + "(default: the launcher's checkout, or the working directory)")
    Path home;

    @Override
    public Integer call() throws Exception {
        Path root = home != null ? home : Path.of(System.getProperty("spark-lora.home", "."));
        Path config = root.resolve("conf/demo.yaml");
        Path model = root.resolve("models/demo-base");
        Path data = root.resolve("data/demo/fortunes.jsonl");
        for (Path p : new Path[] {config, model, data}) {
            if (!Files.exists(p)) {
                throw new IllegalArgumentException("Cannot run the demo: " + p + " is missing (run it from a spark-lora"
                        + " checkout, or pass --home)");
            }
        }
        long t0 = System.nanoTime();
        int status = SparkLoraCli.run("train", "--config", config.toString(), "--model", model.toString(), "--data",
                data.toString(), "--out", out, "--master", master);
        if (status != 0) {
            return status;
        }
        String evalFile = out + "/eval.json";
        status = SparkLoraCli.run("eval", "--model", model.toString(), "--adapters", out, "--data", data.toString(),
                "--partition-by", "lang", "--out", evalFile, "--master", master);
        if (status != 0) {
            return status;
        }
        EvalMatrix matrix = EvalMatrix.read(Path.of(evalFile));
        System.out.println();
        System.out.println("Held-out loss (nats per byte), rows = models, columns = languages:");
        System.out.print(table(matrix));
        String verdict = specialisation(matrix);
        System.out.printf(Locale.ROOT, "%n%s%nDemo finished in %.0f s; report: %s/report/index.html%n", verdict,
                (System.nanoTime() - t0) / 1e9, out);
        return verdict.startsWith("Every") ? 0 : 1;
    }

    static String table(EvalMatrix m) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-8s", "model"));
        for (String p : m.partitions()) {
            s.append(String.format(Locale.ROOT, "%9s", p));
        }
        s.append('\n');
        for (int r = 0; r < m.models().size(); r++) {
            s.append(String.format(Locale.ROOT, "%-8s", m.models().get(r)));
            for (int c = 0; c < m.partitions().size(); c++) {
                boolean best = m.bestModel(c) == r;
                s.append(String.format(Locale.ROOT, "%8.4f%s", m.loss(r, c), best ? "*" : " "));
            }
            s.append('\n');
        }
        return s.toString();
    }

    /** "Every language's adapter ..." when the property holds, otherwise the first language where it fails. */
    static String specialisation(EvalMatrix m) {
        int baseRow = m.models().indexOf("base");
        for (int c = 0; c < m.partitions().size(); c++) {
            String lang = m.partitions().get(c);
            int own = m.models().indexOf(lang);
            if (own < 0) {
                return "No adapter for language " + lang + " in the evaluation.";
            }
            if (m.bestModel(c) != own) {
                return "Adapter " + lang + " is not the best model on " + lang + ": " + m.models().get(m.bestModel(c))
                        + " is.";
            }
            if (baseRow >= 0 && !(m.loss(own, c) < m.loss(baseRow, c))) {
                return "Adapter " + lang + " does not beat the base on " + lang + ".";
            }
        }
        return "Every language's adapter has the lowest held-out loss on its own language and beats the base there (*).";
    }
}
