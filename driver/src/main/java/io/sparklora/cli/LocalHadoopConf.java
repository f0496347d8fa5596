package io.sparklora.cli;

import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop configuration of the commands that run without Spark ({@code combine}, {@code extract}, {@code score},
 * {@code generate}, {@code merge}, {@code pretrain}, {@code serve}, {@code report}): the
 * {@code core-site.xml} on the class path, then every {@code spark.hadoop.K=V} system property as {@code K=V} — the
 * settings {@code spark-submit --conf spark.hadoop.fs.s3a.endpoint=…} hands the Spark commands, so one launch line
 * reaches the same stores from every command.
 */
final class LocalHadoopConf {
    private static final String PREFIX = "spark.hadoop.";

    private LocalHadoopConf() {
    }

    static Configuration create() {
        Configuration conf = new Configuration();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(PREFIX)).sorted()
                .forEach(k -> conf.set(k.substring(PREFIX.length()), System.getProperty(k)));
        return conf;
    }
}
