package io.sparklora.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A real Spark standalone cluster for tests: a Master and {@code n} Workers, each a separate JVM started from the test
 * ({@code org.apache.spark.deploy.master.Master} / {@code ...worker.Worker} from spark-core), each Worker launching its
 * executors as further JVMs, exactly as a cluster installation does.
 *
 * <p>Class paths. The processes need Spark and our dependencies; executors also need our classes. The harness lays out
 * a Spark home in the work directory as a "Hadoop free" binary distribution has it ({@code RELEASE}, {@code jars/},
 * {@code conf/}) and gives every library jar of the test class path in {@code SPARK_DIST_CLASSPATH}, which the Worker
 * appends to each executor's class path. Our own classes (the {@code target/classes} and {@code target/test-classes}
 * directories and the spark-lora module jars) are not on it: they travel as the application's jars
 * ({@link #appJars()}, set as {@code spark.jars}), fetched by each executor from the driver as with
 * {@code spark-submit}.
 *
 * <p>Lifecycle. {@link #start} returns once the Master reports all Workers alive (it polls the Master's JSON page),
 * or fails within a bounded time with the tails of the process logs. {@link #close} stops the Workers, their
 * executors and the Master (terminate, wait, then kill) and waits for every process to exit; a shutdown hook does the
 * same if the test JVM exits first, and each daemon runs under {@link DieWithParent}, which exits it when the test JVM
 * is gone even after a SIGKILL; executors exit when their Worker does. No process outlives the test.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path workDir;
    private final int masterPort;
    private final int masterWebUiPort;
    private final List<Path> appJars;
    private final List<Process> processes = new ArrayList<>(); // master first, then the workers
    private final List<Path> logs = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::stopAll, "standalone-cluster-stop");

    private StandaloneCluster(Path workDir, int masterPort, int masterWebUiPort, List<Path> appJars) {
        this.workDir = workDir;
        this.masterPort = masterPort;
        this.masterWebUiPort = masterWebUiPort;
        this.appJars = appJars;
    }

    /**
     * Starts a Master and {@code workers} Workers with {@code coresPerWorker} cores and {@code workerMemory} (e.g.
     * {@code "1g"}) each, the Master on 127.0.0.1 and Worker i on 127.0.0.(i + 1), and waits until all Workers are
     * registered.
     */
    public static StandaloneCluster start(Path workDir, int workers, int coresPerWorker, String workerMemory)
            throws IOException, InterruptedException {
        TestClassPath classPath = TestClassPath.current();
        Path sparkHome = TestClassPath.layOutSparkHome(workDir.resolve("spark-home"));
        List<Path> appJars = classPath.packProjectJars(workDir.resolve("app-jars"));
        StandaloneCluster cluster = new StandaloneCluster(workDir, freePort(), freePort(), appJars);
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            // The daemons run under DieWithParent, so they exit if this JVM dies without running its shutdown hooks.
            Path dieWithParent = TestClassPath.packClass(DieWithParent.class, workDir.resolve("die-with-parent.jar"));
            String distClassPath = classPath.distClassPath();
            cluster.launch("master", "127.0.0.1", sparkHome, dieWithParent, distClassPath, List.of("org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", String.valueOf(cluster.masterPort),
                    "--webui-port", String.valueOf(cluster.masterWebUiPort)));
            for (int i = 0; i < workers; i++) {
                Path dir = Files.createDirectories(workDir.resolve("worker-" + i));
                // Each Worker (and so its executors) on its own loopback address: Spark sees one host per Worker, as
                // on a real cluster, and so launches speculative copies (never on a host that runs the task already).
                String host = workerHost(i);
                cluster.launch("worker-" + i, host, sparkHome, dieWithParent, distClassPath, List.of(
                        "org.apache.spark.deploy.worker.Worker", cluster.masterUrl(),
                        "--host", host, "--webui-port", "0", "--cores", String.valueOf(coresPerWorker),
                        "--memory", workerMemory, "--work-dir", dir.toAbsolutePath().toString()));
            }
            cluster.awaitWorkers(workers);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** {@code spark://127.0.0.1:<port>}. */
    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** Our classes as jars, to be shipped to executors as {@code spark.jars}. */
    public List<Path> appJars() {
        return appJars;
    }

    /**
     * Spark properties for an application (its driver in the test JVM) on this cluster: the master, the app jars,
     * loopback networking, small executors, and waiting for every executor before the first job so that work spreads
     * over all Workers.
     */
    public Map<String, String> sparkSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("spark.master", masterUrl());
        s.put("spark.jars", String.join(",", appJars.stream().map(p -> p.toUri().toString()).toList()));
        s.put("spark.driver.host", "127.0.0.1");
        s.put("spark.driver.bindAddress", "127.0.0.1");
        s.put("spark.executor.memory", "512m");
        s.put("spark.executor.extraJavaOptions", "-XX:+UseSerialGC");
        s.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        s.put("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        s.put("spark.ui.enabled", "false");
        return s;
    }

    /** Process ids of the Master and the Workers (not of executors). */
    public List<Long> daemonPids() {
        return processes.stream().map(Process::pid).toList();
    }

    /** Process ids of the executors the Workers have launched and that are running now. */
    public List<Long> executorPids() {
        return processes.stream().skip(1).flatMap(Process::descendants).filter(ProcessHandle::isAlive)
                .map(ProcessHandle::pid).toList();
    }

    /**
     * The executors' stderr files under the Workers' work directories ({@code app-.../<id>/stderr}), of every
     * application this cluster ran; {@link #executorLogsAfter} narrows them to the applications run since.
     */
    public List<Path> executorLogs() throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(workDir)) {
            files.filter(p -> p.getFileName().toString().equals("stderr") && p.getParent() != null
                    && p.toString().contains("/worker-")).sorted().forEach(found::add);
        }
        return found;
    }

    /** The executor logs that were not in {@code earlier}: those of the applications (and executors) since. */
    public List<Path> executorLogsAfter(List<Path> earlier) throws IOException {
        List<Path> all = new ArrayList<>(executorLogs());
        all.removeAll(earlier);
        return all;
    }

    /** The last lines of every daemon's log, for failure messages. */
    public String logTails() {
        StringBuilder out = new StringBuilder();
        for (Path log : logs) {
            out.append("==> ").append(log).append(" <==\n").append(tail(log, 30));
        }
        return out.toString();
    }

    /** The loopback address of Worker {@code i}: 127.0.0.(i + 1). */
    static String workerHost(int i) {
        return "127.0.0." + (i + 1);
    }

    private void launch(String name, String localIp, Path sparkHome, Path dieWithParent, String distClassPath,
                        List<String> mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(dieWithParent + File.pathSeparator + distClassPath);
        cmd.add("-Xmx256m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        cmd.add(DieWithParent.class.getName());
        cmd.addAll(mainAndArgs);
        Path log = workDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARK_") || k.startsWith("HADOOP_"));
        env.put("SPARK_HOME", sparkHome.toAbsolutePath().toString());
        env.put("SPARK_DIST_CLASSPATH", distClassPath);
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", localIp);
        env.put("OMP_NUM_THREADS", "1");
        logs.add(log);
        processes.add(pb.start());
    }

    private void awaitWorkers(int expected) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI status = URI.create("http://127.0.0.1:" + masterWebUiPort + "/json/");
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        int alive = 0;
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < processes.size(); i++) {
                if (!processes.get(i).isAlive()) {
                    throw new IllegalStateException("Cannot start the standalone cluster: " + logs.get(i).getFileName()
                            + " exited with status " + processes.get(i).exitValue() + "\n" + logTails());
                }
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(status)
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    JsonNode json = JSON.readTree(response.body());
                    alive = json.path("aliveworkers").asInt(0);
                    if (alive >= expected) {
                        return;
                    }
                }
            } catch (IOException notYetListening) {
                // The Master's web UI is not up yet.
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("Cannot start the standalone cluster: " + alive + " of " + expected
                + " workers registered after " + START_TIMEOUT.toSeconds() + " s\n" + logTails());
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or has run.
        }
    }

    /** Workers (and their executors) first, then the Master; terminate, wait, kill what is left, wait again. */
    private synchronized void stopAll() {
        List<ProcessHandle> all = new ArrayList<>();
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.descendants().forEach(all::add);
            all.add(p.toHandle());
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (ProcessHandle h : all) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception timedOutOrInterrupted) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("Cannot stop the standalone cluster: process " + h.pid()
                        + " is still alive after SIGKILL", e);
            }
        }
        processes.clear();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static String tail(Path file, int lines) {
        if (!Files.isRegularFile(file)) {
            return "(no log)\n";
        }
        try {
            List<String> all = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
