package io.sparklora.driver;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers the classes spark-lora sends through Kryo (the broadcast base model, shuffled rows, task results), so jobs
 * run with {@code spark.kryo.registrationRequired=true}. Set {@code spark.kryo.registrator} to this class.
 */
public final class SparkLoraKryo implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(BroadcastModel.class, new BroadcastModel.KryoSerializer());
        kryo.register(TrainRow.class);
        kryo.register(TrainRow[].class);
        kryo.register(int[].class); // TrainRow.tokens
        kryo.register(AdapterOutcome.class);
        kryo.register(AdapterOutcome[].class);
        kryo.register(double[].class);
        kryo.register(double[][].class);
        kryo.register(io.sparklora.route.NgramCounts.class); // RouterFit's counts
        kryo.register(io.sparklora.route.NgramCounts[].class);
        kryo.register(java.util.HashMap.class);
        kryo.register(long[].class); // RouterFit's confusion rows
        kryo.register(long[][].class);
    }
}
