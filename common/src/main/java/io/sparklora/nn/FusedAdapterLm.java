package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.tensor.Parameter;
import io.sparklora.util.SplitMix64;
import java.util.ArrayList;
import java.util.List;

/**
 * K LoRA adapters trained together over one frozen base (mLoRA/ASPEN, Ye et al. 2023, "ASPEN: High-Throughput LoRA
 * Fine-Tuning of Large Language Models with a Single GPU"): the K batches are concatenated row-wise, so every frozen
 * product runs as one GEMM over K·batch·seq rows, while each adapter's A·B branch, loss and gradients see only its own
 * rows. Attention, norms and the embedding are per row or per sequence anyway. With many small adapters this turns
 * K thin frozen GEMMs (128 rows at batch 1 × seq 128) into one K times taller, which BLAS runs at a higher rate.
 *
 * <p>Equal to K single-adapter models up to float rounding: the same seeds give the same losses and the same A, B.
 * LLaMA family only (GPT-2's blocks are not wired for row slices). Lifecycle: one per thread, as {@link
 * io.sparklora.model.CausalLm}.
 */
public final class FusedAdapterLm {
    private final TransformerLm model;
    private final List<List<Parameter>> parameters; // (K) each adapter's A and B

    private FusedAdapterLm(TransformerLm model, List<List<Parameter>> parameters) {
        this.model = model;
        this.parameters = parameters;
    }

    /** The fused model of {@code adapters} (K ≥ 1) over {@code base}; fails naming the reason for a GPT-2 base. */
    public static FusedAdapterLm of(BaseModel base, List<LoraAdapter> adapters) {
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("Cannot fuse adapters: none given, expected at least 1");
        }
        List<List<Parameter>> params = new ArrayList<>();
        for (LoraAdapter a : adapters) {
            CausalLms.checkFits(base, a);
            params.add(a.parameters());
        }
        TransformerLm model = base.config().fold(llama -> new LlamaModel(base, adapters, null), gpt2 -> {
            throw new IllegalArgumentException("Cannot fuse " + adapters.size() + " adapters over a "
                    + base.config().modelType() + " base: fused multi-adapter training supports the LLaMA family "
                    + "only; train them one by one");
        });
        return new FusedAdapterLm(model, List.copyOf(params));
    }

    public int adapters() {
        return parameters.size();
    }

    /** Adapter k's trainable tensors (its A and B matrices), in the order a single-adapter model lists them. */
    public List<Parameter> parameters(int k) {
        return parameters.get(k);
    }

    /** Adapter k's dropout stream, as {@link io.sparklora.model.CausalLm#dropoutRng()} of a single model. */
    public SplitMix64 dropoutRng(int k) {
        return model.dropoutRng(k);
    }

    public void train() {
        model.train();
    }

    public void eval() {
        model.eval();
    }

    /**
     * One forward over batch k for adapter k (all of one batch × seq shape); returns each adapter's mean
     * cross-entropy.
     */
    public double[] forward(List<Batch> batches) {
        if (batches.size() != adapters()) {
            throw new IllegalArgumentException("Cannot run " + adapters() + " fused adapters on " + batches.size()
                    + " batches: expected one batch per adapter");
        }
        Batch first = batches.get(0);
        int per = first.rows();
        int[] inputs = new int[per * batches.size()];
        int[] targets = new int[per * batches.size()];
        for (int k = 0; k < batches.size(); k++) {
            Batch b = batches.get(k);
            if (b.batchSize() != first.batchSize() || b.seqLen() != first.seqLen()) {
                throw new IllegalArgumentException("Cannot fuse batch " + k + " of shape " + b.batchSize() + "×"
                        + b.seqLen() + ": fused adapters need one shape, batch 0 is " + first.batchSize() + "×"
                        + first.seqLen());
            }
            System.arraycopy(b.inputs(), 0, inputs, k * per, per);
            System.arraycopy(b.targets(), 0, targets, k * per, per);
        }
        model.forward(new Batch(first.batchSize() * batches.size(), first.seqLen(), inputs, targets));
        return model.sliceLosses();
    }

    /** Adds each adapter's loss gradient (its own mean) to its own A and B grads. */
    public void backward() {
        model.backward();
    }
}
