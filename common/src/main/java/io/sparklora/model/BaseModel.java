package io.sparklora.model;

import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A base model: its architecture and its weights, keyed by canonical Hugging Face checkpoint keys
 * ({@link ModelConfig#weightShapes()}). Frozen during LoRA training, so one instance can be shared by every task of an
 * executor; full-weight training updates the tensors in place.
 */
public final class BaseModel {
    private final ModelConfig config;
    private final Map<String, Tensor> weights; // canonical HF key -> tensor, in weightShapes() order

    /** Checks that {@code weights} holds exactly the keys and shapes the config declares. */
    public BaseModel(ModelConfig config, Map<String, Tensor> weights) {
        Map<String, int[]> expected = config.weightShapes();
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("Invalid base model: missing tensor " + e.getKey());
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("Invalid base model: tensor " + e.getKey() + " has shape "
                        + Arrays.toString(t.shape()) + ", config expects " + Arrays.toString(e.getValue()));
            }
            ordered.put(e.getKey(), t);
        }
        for (String key : weights.keySet()) {
            if (!expected.containsKey(key)) {
                throw new IllegalArgumentException("Invalid base model: unexpected tensor " + key + " for a "
                        + config.modelType() + " model with this config");
            }
        }
        this.config = config;
        this.weights = Collections.unmodifiableMap(ordered);
    }

    public ModelConfig config() {
        return config;
    }

    /** All tensors by canonical key, in checkpoint order. */
    public Map<String, Tensor> weights() {
        return weights;
    }

    /** The tensor at {@code key}; fails naming the key when absent. */
    public Tensor weight(String key) {
        Tensor t = weights.get(key);
        if (t == null) {
            throw new IllegalArgumentException("Cannot find tensor " + key + " in the " + config.modelType()
                    + " base model");
        }
        return t;
    }

    /** (vocab, hidden) matrix of the LM head: {@code lm_head.weight}, or the token embedding when tied. */
    public Tensor lmHead() {
        return weight(config.lmHeadKey());
    }

    /** A deep copy (for merging an adapter into an exported checkpoint, or full-weight training). */
    public BaseModel copy() {
        Map<String, Tensor> w = new LinkedHashMap<>();
        weights.forEach((k, v) -> w.put(k, v.copy()));
        return new BaseModel(config, w);
    }
}
