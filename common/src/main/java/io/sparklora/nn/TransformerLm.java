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
    protected final LoraAdapter adapter; // null when no LoRA branch
    private final Map<String, Parameter> weightParams; // canonical key -> parameter, null unless training all weights
    private final List<Parameter> trainable;
    // 0 when training all weights, else the lowest adapted block (the block count when nothing is trained): gradients
    // below it reach no parameter, so backward stops there.
    private final int lowestTrainedBlock;
    private final SplitMix64 dropoutRng = new SplitMix64(0L);
    private final Map<String, LinearModule> linearByPath = new HashMap<>(); // HF module path -> layer
    private boolean training;

    protected int batchSize;
    protected int seqLen;
    protected int rows; // batchSize·seqLen
    protected int[] inputs; // (rows) of the last forward
    private int[] targets; // (rows) of the last forward
    private final LmHead head; // the LM head and its loss, chunk by chunk over rows
    private Tensor logits; // (rows, vocab) of the last forward, computed when asked for; null until then
    protected FloatBuffer hidden; // (rows, hidden): final-norm output, the head's input
    protected FloatBuffer dHidden; // (rows, hidden)

    TransformerLm(BaseModel base, LoraAdapter adapter, Map<String, Parameter> weightParams) {
        this.base = base;
        this.adapter = adapter;
        this.weightParams = weightParams;
        this.trainable = weightParams != null ? List.copyOf(weightParams.values())
                : adapter != null ? adapter.parameters() : List.of();
        int lowest = weightParams != null ? 0 : base.config().numLayers();
        if (adapter != null && weightParams == null) {
            for (LoraModule m : adapter.modules().values()) {
                lowest = Math.min(lowest, m.target().layer());
            }
        }
        this.lowestTrainedBlock = lowest;
        this.head = new LmHead(base.config().vocabSize(), base.config().hiddenSize(), LmHead.DEFAULT_CHUNK_FLOATS);
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
        Parameter w = weightParams == null ? null : weightParams.get(m.weightKey());
        Parameter b = weightParams == null || !m.hasBias() ? null : weightParams.get(m.biasKey());
        return new LoraLinear(m, base.weight(m.weightKey()), bias, adapter == null ? null : adapter.module(m.path()),
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
            allocateBlocks();
        }
        targets = null; // backward is valid only after a forward that completed
        logits = null;
        inputs = batch.inputs().clone(); // backward must see this batch even if the caller reuses its arrays
        forwardBlocks();
        double loss = head.forward(rows, hidden, base.lmHead().data(), batch.targets());
        targets = batch.targets().clone();
        return loss;
    }

    @Override
    public void backward() {
        if (targets == null) {
            throw new IllegalStateException("Cannot run backward: no forward pass has run");
        }
        head.backward(rows, hidden, base.lmHead().data(), targets, dHidden, weightGrad(config().lmHeadKey()));
        backwardBlocks();
    }

    /** Computed from the last forward's hidden states on first call: training never materialises them. */
    @Override
    public Tensor logits() {
        if (logits == null && hidden != null) {
            logits = head.logits(rows, hidden, base.lmHead().data());
        }
        return logits;
    }

    /** Copies n floats from src to dst (a residual carried forward). */
    protected static void copy(FloatBuffer src, FloatBuffer dst, int n) {
        dst.put(0, src, 0, n);
    }
}
