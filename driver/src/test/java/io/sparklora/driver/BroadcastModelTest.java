package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import java.nio.ByteBuffer;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

class BroadcastModelTest {
    @Test
    void kryoRoundTripWithRegistrationRequiredRebuildsTheSameModel() {
        BaseModel base = Checkpoints.random(new Gpt2Config(256, 32, 2, 4, 64, 128, 1e-5, 0.02), 3);
        SparkConf conf = new SparkConf().set("spark.kryo.registrator", SparkLoraKryo.class.getName())
                .set("spark.kryo.registrationRequired", "true");
        SerializerInstance kryo = new KryoSerializer(conf).newInstance();
        BroadcastModel sent = BroadcastModel.of(base);
        ByteBuffer bytes = kryo.serialize(sent, ClassTag$.MODULE$.apply(BroadcastModel.class));
        // the payload is the raw floats plus small headers
        assertEquals(sent.weightBytes(), bytes.remaining(), 4096.0);
        BaseModel back = kryo.<BroadcastModel>deserialize(bytes, ClassTag$.MODULE$.apply(BroadcastModel.class))
                .toBaseModel();
        assertEquals(base.config(), back.config());
        assertEquals(base.weights().keySet(), back.weights().keySet());
        base.weights().forEach((k, t) -> assertArrayEquals(t.toArray(), back.weight(k).toArray(), k));
    }
}
