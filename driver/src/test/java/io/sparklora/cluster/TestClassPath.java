package io.sparklora.cluster;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The test JVM's class path split the way a Spark deployment splits it: library jars (what a Spark distribution and
 * the cluster provide) and our own classes (what the application ships). Our classes are the build's class
 * directories ({@code .../target/classes}, {@code .../target/test-classes}) and the {@code spark-lora-*} module jars.
 *
 * <p>Surefire runs tests with a manifest-only jar on {@code java.class.path} and the real class path in
 * {@code surefire.test.class.path}; outside Surefire, {@code java.class.path} is the real one.
 */
record TestClassPath(List<Path> libraryJars, List<Path> projectEntries) {

    static TestClassPath current() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> libraries = new ArrayList<>();
        List<Path> project = new ArrayList<>();
        for (String entry : cp.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path path = Path.of(entry).toAbsolutePath();
            boolean ours = Files.isDirectory(path) || path.getFileName().toString().startsWith("spark-lora-");
            if (ours) {
                project.add(path);
            } else if (Files.isRegularFile(path) && path.toString().endsWith(".jar")) {
                libraries.add(path);
            }
        }
        if (libraries.stream().noneMatch(p -> p.getFileName().toString().startsWith("spark-core_"))) {
            throw new IllegalStateException("Cannot lay out a Spark home: spark-core is not on the class path " + cp);
        }
        return new TestClassPath(List.copyOf(libraries), List.copyOf(project));
    }

    /**
     * A Spark home as a "Hadoop free" binary distribution lays it out: {@code RELEASE} (which makes Spark's launcher
     * take {@code jars/} as the distribution's jars), an empty {@code jars/}, and {@code conf/} (on every executor's
     * class path) holding a {@code log4j2.properties}. The library jars come from {@link #distClassPath()} in
     * {@code SPARK_DIST_CLASSPATH}, which the Worker appends to each executor's class path.
     *
     * <p>The executors' logging is set here, not left to Spark's defaults, because the cluster tests read the
     * executor logs: our own loggers and Spark's broadcast reads at INFO, everything else at WARN.
     */
    static Path layOutSparkHome(Path home) throws IOException {
        Files.createDirectories(home.resolve("jars"));
        Path conf = Files.createDirectories(home.resolve("conf"));
        Files.writeString(home.resolve("RELEASE"), "Spark (test layout of spark-lora's cluster tests)\n");
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.stderr.ref = console",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex",
                "logger.sparklora.name = io.sparklora",
                "logger.sparklora.level = info",
                "logger.broadcast.name = org.apache.spark.broadcast.TorrentBroadcast",
                "logger.broadcast.level = info",
                "logger.executor.name = org.apache.spark.executor.Executor",
                "logger.executor.level = info",
                ""));
        return home;
    }

    /** The library jars as one class path string. */
    String distClassPath() {
        return String.join(File.pathSeparator, libraryJars.stream().map(Path::toString).toList());
    }

    /** Our classes as jars: each class directory packed into one jar, module jars copied; returns them in order. */
    List<Path> packProjectJars(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> jars = new ArrayList<>();
        int i = 0;
        for (Path entry : projectEntries) {
            if (Files.isDirectory(entry)) {
                // e.g. driver/target/test-classes -> 01-driver-test-classes.jar
                String name = String.format("%02d-%s-%s.jar", i++, entry.getParent().getParent().getFileName(),
                        entry.getFileName());
                jars.add(pack(entry, dir.resolve(name)));
            } else {
                Path copy = dir.resolve(String.format("%02d-%s", i++, entry.getFileName()));
                Files.copy(entry, copy);
                jars.add(copy);
            }
        }
        return jars;
    }

    /** A jar holding only {@code type}'s class file (a top-level class without nested classes). */
    static Path packClass(Class<?> type, Path jar) throws IOException {
        String name = type.getName().replace('.', '/') + ".class";
        Files.createDirectories(jar.getParent());
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file);
                InputStream in = type.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("Cannot pack " + name + ": not found by " + type.getClassLoader());
            }
            out.putNextEntry(new JarEntry(name));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }

    private static Path pack(Path classes, Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file, manifest);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
                out.putNextEntry(new JarEntry(name));
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return jar;
    }
}
