package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The templates in conf/ stay true to the code: option names that exist, classes that exist, sizes that fit. */
class ConfTemplatesTest {
    private static final Path CONF = Path.of("..", "conf");

    @Test
    void jobFilesUseOnlyTrainOptions() throws IOException {
        CommandLine.Model.CommandSpec train = new CommandLine(new SparkLoraCli()).getSubcommands().get("train")
                .getCommandSpec();
        for (String file : new String[] {"train-by-key.yaml", "train-shards.yaml", "qwen-bpe.yaml"}) {
            List<String> keys = yamlKeys(CONF.resolve(file));
            assertTrue(keys.containsAll(List.of("model", "data", "out")), file + " keys " + keys);
            for (String key : keys) {
                assertNotNull(train.findOption("--" + key), file + ": \"" + key + "\" is not an option of train");
            }
        }
        assertTrue(yamlKeys(CONF.resolve("train-by-key.yaml")).contains("partition-by"));
        assertTrue(yamlKeys(CONF.resolve("train-shards.yaml")).contains("shards"));
    }

    @Test
    void sparkDefaultsMatchThreadsToTaskCpusAndCoverOffHeapMemory() throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(CONF.resolve("spark-defaults.conf"))) {
            p.load(r); // spark-defaults.conf is whitespace-separated key value, which Properties reads
        }
        assertEquals("org.apache.spark.serializer.KryoSerializer", p.getProperty("spark.serializer"));
        String registrator = p.getProperty("spark.kryo.registrator");
        assertTrue(org.apache.spark.serializer.KryoRegistrator.class.isAssignableFrom(Class.forName(registrator)),
                registrator + " is a KryoRegistrator");
        assertEquals(p.getProperty("spark.task.cpus"), p.getProperty("spark.executorEnv.OMP_NUM_THREADS"));
        assertEquals(p.getProperty("spark.task.cpus"), p.getProperty("spark.executorEnv.OPENBLAS_NUM_THREADS"));
        for (String role : new String[] {"executor", "driver"}) {
            String opts = p.getProperty("spark." + role + ".extraJavaOptions");
            long direct = gib(find(opts, "-XX:MaxDirectMemorySize=(\\w+)"));
            assertEquals(direct, gib(find(opts, "-Dorg.bytedeco.javacpp.maxbytes=(\\w+)")), role);
            long overhead = gib(p.getProperty("spark." + role + ".memoryOverhead"));
            assertTrue(overhead >= direct + 1, role + ": memoryOverhead " + overhead + "g must exceed "
                    + "MaxDirectMemorySize " + direct + "g by 1g for native libraries");
        }
    }

    @Test
    void log4jKeepsSparkQuietAndOurProgressVisible() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(CONF.resolve("log4j2.properties"))) {
            p.load(r);
        }
        assertEquals("warn", p.getProperty("rootLogger.level"));
        assertEquals("io.sparklora", p.getProperty("logger.sparklora.name"));
        assertEquals("info", p.getProperty("logger.sparklora.level"));
        assertEquals("org.apache.spark", p.getProperty("logger.spark.name"));
        assertEquals("warn", p.getProperty("logger.spark.level"));
    }

    private static List<String> yamlKeys(Path file) throws IOException {
        List<String> keys = new ArrayList<>();
        Pattern key = Pattern.compile("^([A-Za-z][A-Za-z0-9-]*):");
        for (String line : Files.readAllLines(file)) {
            Matcher m = key.matcher(line);
            if (m.find()) {
                keys.add(m.group(1));
            }
        }
        assertFalse(keys.isEmpty(), file + " has keys");
        return keys;
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " in " + text);
        return m.group(1);
    }

    /** "10g" or "10240m" in GiB. */
    private static long gib(String size) {
        String s = size.trim().toLowerCase();
        long n = Long.parseLong(s.substring(0, s.length() - 1));
        return switch (s.charAt(s.length() - 1)) {
            case 'g' -> n;
            case 'm' -> n / 1024;
            default -> throw new IllegalArgumentException("Unexpected size " + size);
        };
    }
}
