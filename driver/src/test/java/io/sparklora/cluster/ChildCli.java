package io.sparklora.cluster;

import io.sparklora.cli.SparkLoraCli;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * The CLI in a JVM of its own ({@code java -cp <test class path> ... SparkLoraCli <args>}), as a user's
 * {@code submit/spark-lora} starts it: a driver process a test can kill with SIGKILL. Spark properties are passed as
 * {@code -D} system properties (a new SparkConf reads them, like {@code --conf}); stdout and stderr go to one log
 * file. It runs under {@link DieWithParent}, so it exits if the test JVM dies.
 */
final class ChildCli {
    private ChildCli() {
    }

    static Process start(Map<String, String> sparkProperties, Path log, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add("-Xmx1g");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        sparkProperties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add(DieWithParent.class.getName());
        cmd.add(SparkLoraCli.class.getName());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }
}
