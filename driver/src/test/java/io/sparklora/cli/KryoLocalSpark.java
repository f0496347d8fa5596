package io.sparklora.cli;

import org.apache.spark.sql.SparkSession;

/** The local Spark session of the train tests: Kryo with registration required, so an unregistered class fails. */
final class KryoLocalSpark {
    private KryoLocalSpark() {
    }

    static SparkSession start(String master, String app, int shufflePartitions) {
        return SparkSession.builder().master(master).appName(app)
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", "io.sparklora.driver.SparkLoraKryo")
                .config("spark.kryo.registrationRequired", "true")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", Integer.toString(shufflePartitions))
                .getOrCreate();
    }
}
