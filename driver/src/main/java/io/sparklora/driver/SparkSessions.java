package io.sparklora.driver;

import org.apache.spark.sql.SparkSession;

/**
 * The SparkSession of a command: the active one when there is one (spark-submit, tests), else a new one with Kryo and
 * our registrator, {@code --master} or {@code local[*]}, executors' {@code OMP_NUM_THREADS} following
 * {@code spark.task.cpus}, and {@code spark.locality.wait} 0 unless set: a training task's rows arrive through a
 * shuffle, whose reducers Spark prefers to run where most map output lies (one executor, for a single input file), and
 * delay scheduling would keep handing that executor every task while it frees up within the wait — the work is compute,
 * the rows are small, so an idle executor should take a task at once.
 */
public final class SparkSessions {
    private SparkSessions() {
    }

    /** A session and whether this call created it (then the caller stops it). */
    public record Session(SparkSession spark, boolean created) implements AutoCloseable {
        @Override
        public void close() {
            if (created) {
                spark.stop();
            }
        }
    }

    public static Session open(String master, String appName) {
        var active = SparkSession.getActiveSession();
        if (active.isEmpty()) {
            active = SparkSession.getDefaultSession();
        }
        if (active.isDefined() && master == null) {
            return new Session(active.get(), false);
        }
        SparkSession.Builder b = SparkSession.builder().appName(appName)
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkLoraKryo.class.getName());
        String cpus = System.getProperty("spark.task.cpus", "1");
        if (System.getProperty("spark.executorEnv.OMP_NUM_THREADS") == null) {
            b.config("spark.executorEnv.OMP_NUM_THREADS", cpus);
        }
        if (System.getProperty("spark.locality.wait") == null) {
            b.config("spark.locality.wait", "0");
        }
        if (master != null) {
            b.master(master);
        } else if (System.getProperty("spark.master") == null) {
            b.master("local[*]");
        }
        return new Session(b.getOrCreate(), true);
    }
}
