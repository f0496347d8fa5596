package io.sparklora.cluster;

import org.apache.spark.sql.SparkSession;

/**
 * Stops a SparkSession an earlier test class of the same JVM left running. {@code getOrCreate} would otherwise hand
 * the cluster tests that session, with its master and settings, and they would silently not run where they claim to.
 */
final class LeftoverSpark {
    private LeftoverSpark() {
    }

    static void stop() {
        if (SparkSession.getActiveSession().isDefined()) {
            SparkSession.getActiveSession().get().stop();
        }
        if (SparkSession.getDefaultSession().isDefined()) {
            SparkSession.getDefaultSession().get().stop();
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }
}
