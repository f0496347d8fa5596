package io.sparklora.driver;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.model.ModelConfig;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.StrictJson;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The frozen base model as the one value the driver broadcasts: its {@code config.json} text and, per canonical key,
 * the shape and the float32 values as plain arrays. Off-heap tensors do not serialize; plain arrays do, and Kryo
 * writes them in bulk ({@link KryoSerializer}). Executors turn it back into a {@link BaseModel} once
 * ({@link ExecutorModels}).
 *
 * <p>On the driver it is read straight from the checkpoint ({@link #read}): the weights go from the file into these
 * arrays, with no {@link BaseModel} (off-heap) beside them, so the driver holds one copy of the base (plus what Spark's
 * broadcast keeps of it).
 */
public final class BroadcastModel implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String configJson;
    private final String[] keys;
    private final int[][] shapes;
    private final float[][] values; // values[i]: the row-major data of keys[i]

    private BroadcastModel(String configJson, String[] keys, int[][] shapes, float[][] values) {
        this.configJson = configJson;
        this.keys = keys;
        this.shapes = shapes;
        this.values = values;
    }

    /** The base model at {@code uri} (any Hadoop file system), read into heap arrays only, checked as a load is. */
    public static BroadcastModel read(String uri, org.apache.hadoop.conf.Configuration conf)
            throws java.io.IOException {
        return ModelStore.load(uri, conf, (config, src) -> {
            Map<String, int[]> shapes = config.weightShapes();
            Map<String, float[]> weights = Checkpoints.readHeapWeights(config, src);
            int n = weights.size();
            String[] keys = new String[n];
            int[][] keyShapes = new int[n][];
            float[][] values = new float[n][];
            int i = 0;
            for (Map.Entry<String, float[]> e : weights.entrySet()) {
                keys[i] = e.getKey();
                keyShapes[i] = shapes.get(e.getKey()).clone();
                values[i] = e.getValue();
                i++;
            }
            return new BroadcastModel(configJson(config), keys, keyShapes, values);
        });
    }

    private static String configJson(ModelConfig config) {
        try {
            return StrictJson.MAPPER.writeValueAsString(config.toHfConfig());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot broadcast base model: its config does not serialize", e);
        }
    }

    /** Copies the model's tensors onto the heap (for a model built in memory; from a file, {@link #read}). */
    public static BroadcastModel of(BaseModel model) {
        String json = configJson(model.config());
        int n = model.weights().size();
        String[] keys = new String[n];
        int[][] shapes = new int[n][];
        float[][] values = new float[n][];
        int i = 0;
        for (Map.Entry<String, Tensor> e : model.weights().entrySet()) {
            keys[i] = e.getKey();
            shapes[i] = e.getValue().shape();
            values[i] = e.getValue().toArray();
            i++;
        }
        return new BroadcastModel(json, keys, shapes, values);
    }

    /** A fresh off-heap model with these weights (validated by {@link BaseModel}). */
    public BaseModel toBaseModel() {
        ModelConfig config = Checkpoints.parseConfig(configJson, "(broadcast base model)");
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            weights.put(keys[i], Tensor.of(values[i], shapes[i]));
        }
        return new BaseModel(config, weights);
    }

    /** Bytes of the weights. */
    public long weightBytes() {
        long n = 0;
        for (float[] v : values) {
            n += (long) v.length * Float.BYTES;
        }
        return n;
    }

    /** Writes the arrays in bulk instead of field by field. */
    public static final class KryoSerializer extends Serializer<BroadcastModel> {
        @Override
        public void write(Kryo kryo, Output out, BroadcastModel m) {
            out.writeString(m.configJson);
            out.writeInt(m.keys.length, true);
            for (int i = 0; i < m.keys.length; i++) {
                out.writeString(m.keys[i]);
                out.writeInt(m.shapes[i].length, true);
                out.writeInts(m.shapes[i], true);
                out.writeInt(m.values[i].length, true);
                out.writeFloats(m.values[i]);
            }
        }

        @Override
        public BroadcastModel read(Kryo kryo, Input in, Class<BroadcastModel> type) {
            String json = in.readString();
            int n = in.readInt(true);
            String[] keys = new String[n];
            int[][] shapes = new int[n][];
            float[][] values = new float[n][];
            for (int i = 0; i < n; i++) {
                keys[i] = in.readString();
                shapes[i] = in.readInts(in.readInt(true), true);
                values[i] = in.readFloats(in.readInt(true));
            }
            return new BroadcastModel(json, keys, shapes, values);
        }
    }
}
