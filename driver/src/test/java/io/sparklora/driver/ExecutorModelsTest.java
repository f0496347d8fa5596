package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Broadcast ids restart at 0 in every SparkContext: a JVM that runs two contexts one after another (local mode) must
 * get the second context's base for its broadcast, not the first's that had the same id (a test suite trained a
 * 151k-vocabulary model's rows on a 256-vocabulary base this way).
 */
class ExecutorModelsTest {
    @Test
    void aSecondSparkContextGetsItsOwnBaseForTheSameBroadcastId() {
        BaseModel small = Checkpoints.random(new Gpt2Config(256, 32, 2, 4, 64, 128, 1e-5, 0.02), 3);
        BaseModel large = Checkpoints.random(new Gpt2Config(300, 32, 2, 4, 64, 128, 1e-5, 0.02), 3);
        assertEquals(256, vocabOfFirstBroadcast(small));
        assertEquals(300, vocabOfFirstBroadcast(large), "the second context's base, although its broadcast id is the "
                + "first's");
    }

    private static int vocabOfFirstBroadcast(BaseModel base) {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("ExecutorModelsTest")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Broadcast<BroadcastModel> b = sc.broadcast(BroadcastModel.of(base));
            assertEquals(0, b.id(), "each context numbers its broadcasts from 0");
            return ExecutorModels.fromBroadcast(b).config().vocabSize();
        } finally {
            spark.stop();
        }
    }
}
