package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What LLaMA and GPT-2 share: the trainable-parameter bookkeeping (LoRA matrices, or every base weight), dropout mode,
 * per-shape buffer lifecycle, and the LM head with the loss ({@link LmHead}, in chunks of rows). A subclass supplies the embedding and the blocks up to
 * the final norm, writing the head's input into {@link #hidden} and consuming its gradient from {@link #dHidden}.
 *
 * <p>Lifecycle: buffers are (re)allocated only when the batch shape changes, then reused by every step.
 */
abstract class TransformerLm implements CausalLm {
    protected final BaseModel base;
    private final List<LoraAdapter> adapters; // empty: no LoRA branch; K > 1: K adapters over K row slices
    private final int slices; // max(1, adapters): batches hold this many equal slices of rows, one per adapter
    private final Map<String, Parameter> weightParams; // canonical key -> parameter, null unless training all weights
    private final List<Parameter> trainable;
    // 0 when training all weights, else the lowest adapted block (the block count when nothing is trained): gradients
    // below it reach no parameter, so backward stops there.
    private final int lowestTrainedBlock;
    private final SplitMix64 dropoutRng; // sliceRngs[0]
    private final SplitMix64[] sliceRngs; // (slices) each adapter's dropout stream
    private final Map<String, LinearModule> linearByPath = new HashMap<>(); // HF module path -> layer
    private boolean training;

    protected int batchSize;
    protected int seqLen;
    protected int rows; // batchSize·seqLen
    protected int[] inputs; // (rows) of the last forward
    private int[] targets; // (rows) of the last forward
    private final LmHead[] heads; // (slices) the LM head and its loss per slice, chunk by chunk over its rows
    private FloatBuffer[] hiddenSlices, dHiddenSlices; // (slices) views of hidden and dHidden, (rows / slices, hidden)
    private double[] sliceLosses; // (slices) of the last forward
    private Tensor logits; // (rows, vocab) of the last forward, computed when asked for; null until then
    protected FloatBuffer hidden; // (rows, hidden): final-norm output, the head's input
    protected FloatBuffer dHidden; // (rows, hidden)

    TransformerLm(BaseModel base, List<LoraAdapter> adapters, Map<String, Parameter> weightParams) {
        this.base = base;
        this.adapters = List.copyOf(adapters);
        this.slices = Math.max(1, adapters.size());
        this.weightParams = weightParams;
        List<Parameter> params = new ArrayList<>();
        int lowest = weightParams != null ? 0 : base.config().numLayers();
        if (weightParams != null) {
            params.addAll(weightParams.values());
        }
        for (LoraAdapter a : weightParams == null ? this.adapters : List.<LoraAdapter>of()) {
            params.addAll(a.parameters());
            for (LoraModule m : a.modules().values()) {
                lowest = Math.min(lowest, m.target().layer());
            }
        }
        this.trainable = List.copyOf(params);
        this.lowestTrainedBlock = lowest;
        this.heads = new LmHead[slices];
        this.sliceRngs = new SplitMix64[slices];
        for (int k = 0; k < slices; k++) {
            heads[k] = new LmHead(base.config().vocabSize(), base.config().hiddenSize(), LmHead.DEFAULT_CHUNK_FLOATS);
            sliceRngs[k] = new SplitMix64(0L);
        }
        this.dropoutRng = sliceRngs[0];
        for (LinearModule m : base.config().linearModules()) {
            linearByPath.put(m.path(), m);
        }
    }

    @Override
    public ModelConfig config() {
        return base.config();
    }

    @Override
    public List<Parameter> trainableParameters() {
        return trainable;
    }

    @Override
    public void train() {
        training = true;
    }

    @Override
    public void eval() {
        training = false;
    }

    @Override
    public SplitMix64 dropoutRng() {
        return dropoutRng;
    }

    /** Adapter k's dropout stream (k = 0 is {@link #dropoutRng()}). */
    SplitMix64 dropoutRng(int k) {
        return sliceRngs[k];
    }

    /** How many adapters' row slices a batch holds (1 unless K adapters are trained together). */
    int slices() {
        return slices;
    }

    /** Each slice's mean cross-entropy from the last forward. */
    double[] sliceLosses() {
        return sliceLosses.clone();
    }

    /** The stream for LoRA dropout masks in this pass, or null in evaluation mode. */
    protected SplitMix64 maskRng() {
        return training ? dropoutRng : null;
    }

    protected boolean trainsAllWeights() {
        return weightParams != null;
    }

    /** The lowest block backward must reach (see {@link #lowestTrainedBlock}). */
    protected int lowestTrainedBlock() {
        return lowestTrainedBlock;
    }

    /** Whether backward must produce the gradient at block l's input (it feeds a trained parameter below). */
    protected boolean needsInputGradient(int block) {
        return block > lowestTrainedBlock || weightParams != null;
    }

    /** The gradient buffer of base tensor {@code key}, or null unless training all weights. */
    protected FloatBuffer weightGrad(String key) {
        return weightParams == null ? null : weightParams.get(key).grad().data();
    }

    /** The linear layer at module path {@code path} (e.g. {@code model.layers.0.self_attn.q_proj}), wired by name. */
    protected LoraLinear linear(String path) {
        LinearModule m = linearByPath.get(path);
        if (m == null) {
            throw new IllegalArgumentException("Cannot find linear module " + path + " in the "
                    + config().modelType() + " base");
        }
        return linear(m);
    }

    /** The layer at {@code m} with its LoRA module (if adapted) and its weight gradients (if training all weights). */
    protected LoraLinear linear(LinearModule m) {
        Tensor bias = m.hasBias() ? base.weight(m.biasKey()) : null;
        if (adapters.size() > 1) {
            LoraLinear[] branches = new LoraLinear[adapters.size()];
            for (int k = 0; k < branches.length; k++) {
                branches[k] = new LoraLinear(m, base.weight(m.weightKey()), bias, adapters.get(k).module(m.path()),
                        null, null);
            }
            return new LoraLinear(m, base.weight(m.weightKey()), bias, new SlicedBranches(branches, sliceRngs));
        }
        Parameter w = weightParams == null ? null : weightParams.get(m.weightKey());
        Parameter b = weightParams == null || !m.hasBias() ? null : weightParams.get(m.biasKey());
        return new LoraLinear(m, base.weight(m.weightKey()), bias,
                adapters.isEmpty() ? null : adapters.get(0).module(m.path()),
                w == null ? null : w.grad(), b == null ? null : b.grad());
    }

    /** Allocates every per-shape buffer of the blocks for the current batchSize, seqLen. */
    protected abstract void allocateBlocks();

    /** Embedding and blocks up to the final norm; writes {@link #hidden}. */
    protected abstract void forwardBlocks();

    /** Backward from {@link #dHidden} through the final norm, the blocks and (when trained) the embedding. */
    protected abstract void backwardBlocks();

    @Override
    public double forward(Batch batch) {
        if (batch.seqLen() > config().maxPositions()) {
            throw new IllegalArgumentException("Cannot run " + config().modelType() + " model on sequences of "
                    + batch.seqLen() + " tokens: " + config().positionLimit());
        }
        if (batch.batchSize() != batchSize || batch.seqLen() != seqLen) {
            batchSize = batch.batchSize();
            seqLen = batch.seqLen();
            rows = batch.rows();
            int dim = config().hiddenSize();
            hidden = Tensor.allocate(rows * dim);
            dHidden = Tensor.allocate(rows * dim);
            hiddenSlices = sliceViews(hidden, dim);
            dHiddenSlices = sliceViews(dHidden, dim);
            allocateBlocks();
        }
        targets = null; // backward is valid only after a forward that completed
        logits = null;
        inputs = batch.inputs().clone(); // backward must see this batch even if the caller reuses its arrays
        forwardBlocks();
        int[] all = batch.targets();
        double[] losses = new double[slices];
        double sum = 0;
        for (int k = 0; k < slices; k++) {
            losses[k] = heads[k].forward(rows / slices, hiddenSlices[k], base.lmHead().data(), sliceTargets(all, k));
            sum += losses[k];
        }
        sliceLosses = losses;
        targets = all.clone();
        return sum / slices;
    }

    /** Views of buf's rows, one per slice: (rows / slices, width) each; buf itself when there is one slice. */
    private FloatBuffer[] sliceViews(FloatBuffer buf, int width) {
        if (rows % slices != 0) {
            throw new IllegalArgumentException("Cannot split a batch of " + rows + " rows into " + slices
                    + " equal adapter slices");
        }
        FloatBuffer[] views = new FloatBuffer[slices];
        int size = rows / slices * width;
        for (int k = 0; k < slices; k++) {
            views[k] = slices == 1 ? buf : buf.slice(k * size, size);
        }
        return views;
    }

    private int[] sliceTargets(int[] all, int k) {
        int n = rows / slices;
        return slices == 1 ? all : Arrays.copyOfRange(all, k * n, (k + 1) * n);
    }

    @Override
    public void backward() {
        if (targets == null) {
            throw new IllegalStateException("Cannot run backward: no forward pass has run");
        }
        for (int k = 0; k < slices; k++) {
            heads[k].backward(rows / slices, hiddenSlices[k], base.lmHead().data(), sliceTargets(targets, k),
                    dHiddenSlices[k], weightGrad(config().lmHeadKey()));
        }
        backwardBlocks();
    }

    /** Computed from the last forward's hidden states on first call: training never materialises them. */
    @Override
    public Tensor logits() {
        if (logits == null && hidden != null) {
            logits = heads[0].logits(rows, hidden, base.lmHead().data());
        }
        return logits;
    }

    /** Copies n floats from src to dst (a residual carried forward). */
    protected static void copy(FloatBuffer src, FloatBuffer dst, int n) {
        dst.put(0, src, 0, n);
    }
}
