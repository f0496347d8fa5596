package io.sparklora.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone harness runs real executors: separate processes, children of the Workers, gone after close. */
@Tag("slow")
class StandaloneClusterTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void noLeftoverSparkSession() {
        LeftoverSpark.stop();
    }

    @Test
    void tasksRunInExecutorProcessesOfTheWorkers() throws Exception {
        List<Long> executorPids;
        List<Long> daemonPids;
        try (StandaloneCluster cluster = StandaloneCluster.start(tmp, 2, 1, "1g")) {
            daemonPids = cluster.daemonPids();
            assertEquals(3, daemonPids.size());
            SparkConf conf = new SparkConf().setAppName("standalone-harness-self-test");
            cluster.sparkSettings().forEach(conf::set);
            Set<Long> taskPids = new TreeSet<>();
            Set<String> codeSources = new TreeSet<>();
            try (JavaSparkContext sc = new JavaSparkContext(conf)) {
                List<Integer> items = IntStream.range(0, 8).boxed().toList();
                // Each task sleeps so that both single-core executors are offered tasks.
                for (String seen : sc.parallelize(items, 8).map(StandaloneClusterTest::whereAfterNap).collect()) {
                    taskPids.add(Long.parseLong(seen.substring(0, seen.indexOf(' '))));
                    codeSources.add(seen.substring(seen.indexOf(' ') + 1));
                }
                executorPids = cluster.executorPids();
            }
            // Our test classes reached the executors as the shipped app jar, not from the build directory.
            assertEquals(2, codeSources.size(), codeSources.toString());
            for (String source : codeSources) {
                assertTrue(source.endsWith("-driver-test-classes.jar") && !source.contains("/target/"), source);
            }
            long self = ProcessHandle.current().pid();
            assertEquals(2, taskPids.size(), "one executor process per worker: " + taskPids);
            assertFalse(taskPids.contains(self), "tasks ran in the test JVM " + self);
            assertTrue(daemonPids.stream().noneMatch(taskPids::contains), "tasks ran in a daemon: " + daemonPids);
            assertEquals(taskPids, new TreeSet<>(executorPids),
                    "the task processes are the Workers' child processes\n" + cluster.logTails());

            // Each executor logged through the harness's conf/log4j2.properties: Executor at INFO, the rest at WARN.
            List<Path> logs = cluster.executorLogs();
            assertEquals(2, logs.size(), logs.toString());
            for (Path log : logs) {
                String text = Files.readString(log, StandardCharsets.ISO_8859_1);
                assertTrue(text.contains(" INFO Executor: Running task "), log + ":\n" + text);
                assertFalse(text.contains(" INFO MemoryStore: "), log + ":\n" + text);
            }
        }
        List<Long> stillAlive = new ArrayList<>();
        for (long pid : concat(daemonPids, executorPids)) {
            ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(h -> stillAlive.add(h.pid()));
        }
        assertEquals(List.of(), stillAlive, "processes left after close");
    }

    /** "pid codeSource" of the process running the task, after a short sleep. */
    static String whereAfterNap(int item) throws InterruptedException {
        Thread.sleep(300);
        return ProcessHandle.current().pid() + " "
                + StandaloneClusterTest.class.getProtectionDomain().getCodeSource().getLocation();
    }

    private static List<Long> concat(List<Long> a, List<Long> b) {
        List<Long> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
