package io.sparklora.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar for spark-submit (runs after {@code package}): what is inside, what is left to the Spark
 * installation, and that it starts with a Spark installation's jars beside it.
 */
class AppJarIT {
    private static final Path JAR = Path.of(System.getProperty("app.jar"));

    @Test
    void containsOurClassesAndLinuxNativesButNoSparkScalaOrHadoop() throws IOException {
        List<String> names = new ArrayList<>();
        Manifest manifest;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            jar.stream().forEach(e -> names.add(e.getName()));
            manifest = jar.getManifest();
        }
        assertEquals("io.sparklora.cli.SparkLoraCli", manifest.getMainAttributes().getValue("Main-Class"));
        for (String expected : new String[] {"io/sparklora/cli/SparkLoraCli.class", "io/sparklora/job/AdapterTrainer.class",
            "io/sparklora/tensor/Blas.class", "org/nd4j/linalg/factory/Nd4j.class", "picocli/CommandLine.class",
            "org/knowm/xchart/XYChart.class", "native/lib/linux-x86_64/cpu/libtokenizers.so"}) {
            assertTrue(names.contains(expected), JAR + " contains " + expected);
        }
        assertTrue(names.contains("com/sun/jna/linux-x86-64/libjnidispatch.so"), "JNA linux-x86-64 native inside");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("org/bytedeco/openblas/linux-x86_64/libopenblas")),
                "OpenBLAS linux-x86_64 native library inside");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64/libnd4jcpu")),
                "ND4J linux-x86_64 native library inside");
        for (String prefix : new String[] {"org/apache/spark/", "scala/", "org/apache/hadoop/", "org/slf4j/",
            "com/fasterxml/jackson/core/", "com/fasterxml/jackson/databind/",
            "native/lib/osx-", "native/lib/win-", "native/lib/linux-aarch64/", "com/sun/jna/win32-",
            "com/sun/jna/darwin-", "com/sun/jna/linux-aarch64/"}) {
            List<String> found = names.stream().filter(n -> n.startsWith(prefix)).limit(3).toList();
            assertTrue(found.isEmpty(), JAR + " must not contain " + prefix + "*, found " + found);
        }
    }

    /** The class path of a Spark installation, stood in for by the jars Maven marks provided plus slf4j and Jackson. */
    private static String sparkClassPath() throws IOException {
        return Files.readString(Path.of(System.getProperty("provided.classpath.file"))).trim() + File.pathSeparator
                + Files.readString(Path.of(System.getProperty("shipped.classpath.file"))).trim();
    }

    /** Runs the jar's main class with the Spark jars beside it, as spark-submit would; returns the output. */
    private static String runApp(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // the module openings spark-submit's launcher adds for Spark on Java 17 (the parent pom's list)
        cmd.addAll(List.of(System.getProperty("spark.java.options", "").trim().split("\\s+")));
        cmd.addAll(List.of("-Djava.awt.headless=true", "-cp", JAR + File.pathSeparator + sparkClassPath(),
                "io.sparklora.cli.SparkLoraCli"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished");
        assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + out);
        return out;
    }

    @Test
    void nativeCodeLoadsFromTheJar(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model");
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "Native BLAS and the tokenizer load from inside the application jar. ".repeat(4));

        runApp("init-model", "--family", "llama", "--dim", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
                "--vocab", "256", "--max-seq", "32", "--out", model.toString());
        String score = runApp("score", "--model", model.toString(), "--text-file", text.toString());

        assertTrue(score.startsWith("{\"tokens_scored\": "), score);
    }

    /**
     * A base with GPT-2's real tokenizer.json trains (Spark local[2] inside the app's JVM: its tasks tokenize the rows),
     * evaluates and generates from the application jar alone: the Hugging Face tokenizers' native library comes from
     * inside the jar (no Spark jar carries it).
     */
    @Test
    void bpeTokenizerTrainsEvaluatesAndGeneratesFromTheJar(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model");
        runApp("init-model", "--family", "qwen2", "--dim", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
                "--vocab", "50257", "--max-seq", "64", "--tie-embeddings", "--dtype", "bf16", "--out",
                model.toString());
        Path res = Path.of(System.getProperty("project.root"), "common", "src", "test", "resources", "tokenizers",
                "gpt2");
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(
                Files.newInputStream(res.resolve("tokenizer.json.gz")))) {
            Files.copy(in, model.resolve("tokenizer.json"));
        }
        Files.copy(res.resolve("tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        Path data = tmp.resolve("rows.jsonl");
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add("{\"k\": \"a\", \"prompt\": \"Frage " + i + ":\", \"completion\": \" Antwort mit Ümlaut.\"}");
            rows.add("{\"k\": \"b\", \"prompt\": \"Question " + i + ":\", \"completion\": \" an answer.\"}");
        }
        Files.write(data, rows);
        Path out = tmp.resolve("out");
        String train = runApp("train", "--model", model.toString(), "--data", data.toString(), "--prompt-column",
                "prompt", "--completion-column", "completion", "--partition-by", "k", "--rank", "2", "--steps", "6",
                "--batch", "2", "--seq", "16", "--out", out.toString(), "--master", "local[2]");
        assertTrue(train.contains("Trained 2 adapter(s)"), train);
        String training = Files.readString(out.resolve("adapters").resolve("a").resolve("training.json"));
        assertTrue(training.contains("\"tokenizer\" : \"tokenizer.json + tokenizer_config.json\""), training);
        runApp("eval", "--model", model.toString(), "--adapters", out.toString(), "--out",
                tmp.resolve("eval.json").toString(), "--master", "local[2]");
        String generated = runApp("generate", "--model", model.toString(), "--adapter",
                out.resolve("adapters").resolve("a").toString(), "--prompt", "Frage 3:", "--max-new-tokens", "5");
        assertTrue(!generated.isBlank() && !generated.contains("\uFFFD"), generated);
    }

    @Test
    void runsWithTheSparkJarsOnTheClassPath() throws Exception {
        String out = runApp("--help");
        assertTrue(out.startsWith("Usage: spark-lora "), out);
        for (String command : new String[] {"init-model", "score", "train", "eval", "report"}) {
            assertTrue(out.contains("  " + command + " "), "--help lists " + command + ":\n" + out);
        }
    }

    @Test
    void submitScriptHandsSparkSubmitItsOptionsAndTheCommandTheRest(@TempDir Path sparkHome) throws Exception {
        // A stand-in spark-submit that prints its arguments one per line.
        Path bin = Files.createDirectories(sparkHome.resolve("bin"));
        Path submit = bin.resolve("spark-submit");
        Files.writeString(submit, "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n");
        assertTrue(submit.toFile().setExecutable(true));
        Path script = Path.of(System.getProperty("project.root"), "submit", "spark-lora").toRealPath();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "train", "--model", "m", "--master", "yarn",
                "--conf", "spark.task.cpus=2", "--deploy-mode=cluster", "--data", "a b", "--verbose", "--out", "o");
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished");
        assertEquals(0, p.exitValue(), out);
        assertEquals(List.of("--class", "io.sparklora.cli.SparkLoraCli", "--master", "yarn", "--conf",
                "spark.task.cpus=2", "--deploy-mode", "cluster", "--verbose", JAR.toRealPath().toString(), "train",
                "--model", "m", "--data", "a b", "--out", "o"), out.lines().toList());
    }
}
