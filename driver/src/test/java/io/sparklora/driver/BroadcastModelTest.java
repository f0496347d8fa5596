package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.Gpt2Config;
import io.sparklora.safetensors.DType;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

    private static long directBytesInUse() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getMemoryUsed();
            }
        }
        throw new IllegalStateException("this JVM reports no direct buffer pool");
    }

    @Test
    void readFromShardedBf16FilesHoldsOneF32CopyOnTheHeapAndNothingOffHeap(@TempDir Path dir) throws IOException {
        // 8 layers, so the largest tensor (the 256×32 embedding) is a small part of the whole
        Gpt2Config config = new Gpt2Config(256, 32, 8, 4, 64, 128, 1e-5, 0.02);
        Checkpoints.save(Checkpoints.random(config, 5), dir, DType.BF16, 64 * 1024); // several shards
        assertTrue(dir.resolve(Checkpoints.SAFETENSORS_INDEX).toFile().exists());
        long floats = config.weightShapes().values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b)).sum();

        long before = directBytesInUse();
        BroadcastModel read = BroadcastModel.read(dir.toUri().toString(), new Configuration());
        long grown = directBytesInUse() - before;
        // exactly one float32 copy of every weight on the heap ...
        assertEquals(floats * Float.BYTES, read.weightBytes());
        // ... and no off-heap model beside it (loading a BaseModel first took all of them off-heap, ~0.5 MB here)
        assertTrue(grown < read.weightBytes() / 4, "direct memory grew by " + grown + " bytes while reading "
                + read.weightBytes() + " bytes of weights");

        // the values are the loader's (BF16 widened the same way), key by key
        BaseModel loaded = Checkpoints.load(dir);
        BaseModel back = read.toBaseModel();
        assertEquals(loaded.config(), back.config());
        assertEquals(loaded.weights().keySet(), back.weights().keySet());
        loaded.weights().forEach((k, t) -> {
            assertArrayEquals(t.shape(), back.weight(k).shape(), k);
            assertArrayEquals(t.toArray(), back.weight(k).toArray(), k);
        });
    }
}
