package io.sparklora.job;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import io.sparklora.nn.FusedAdapterLm;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * K LoRA adapters trained in one task over one frozen base ({@link FusedAdapterLm}): every step runs the K adapters'
 * batches as one fused forward and backward, then each adapter clips its own gradients and takes its own AdamW step
 * at its own schedule. The data order, dropout streams, optimizer and held-out evaluation of each adapter are those
 * of {@link AdapterTrainer}, so the results equal training the K adapters one by one (up to float rounding).
 *
 * <p>The adapters must share batch size, sequence length, gradient accumulation and step count (one fused batch per
 * micro-step); checkpoints are not written (a fused run restarts from step 0). Timings: each adapter is charged 1/K
 * of the fused training time, so the sum of their tokens per second is the aggregate rate.
 */
public final class FusedAdapterTrainer {
    private final BaseModel base;
    private final FusedAdapterLm model;
    private final List<Member> members;
    private final int totalSteps;
    private final int gradAccumulation;
    private IntConsumer onStep = step -> { };

    /** One adapter's own state inside the fused run. */
    private static final class Member {
        final TrainSpec spec;
        final LoraAdapter adapter;
        final PackedData data;
        final List<Parameter> params;
        final AdamW optimizer;
        final BatchStream batches;
        final LrSchedule schedule;
        final List<LossPoint> trainHistory = new ArrayList<>();
        final List<LossPoint> heldOutHistory = new ArrayList<>();
        double lossSum;
        CausalLm evalModel; // a single-adapter view for held-out loss, made on first use

        Member(TrainSpec spec, LoraAdapter adapter, PackedData data, List<Parameter> params, int totalSteps) {
            this.spec = spec;
            this.adapter = adapter;
            this.data = data;
            this.params = params;
            this.optimizer = new AdamW(params, spec.beta1(), spec.beta2(), spec.eps(), spec.weightDecay());
            this.batches = new BatchStream(data.train(), spec.batchSize(), spec.seed());
            this.schedule = new LrSchedule(spec.learningRate(), spec.warmupSteps(), totalSteps, spec.minLrRatio());
        }
    }

    public FusedAdapterTrainer(BaseModel base, List<TrainSpec> specs, List<LoraAdapter> adapters,
                               List<PackedData> data) {
        if (specs.isEmpty() || specs.size() != adapters.size() || specs.size() != data.size()) {
            throw new IllegalArgumentException("Cannot fuse adapters: " + specs.size() + " specs, " + adapters.size()
                    + " adapters and " + data.size() + " data sets, expected the same number (at least 1) of each");
        }
        TrainSpec first = specs.get(0);
        this.base = base;
        this.model = FusedAdapterLm.of(base, adapters);
        this.members = new ArrayList<>();
        this.totalSteps = first.totalSteps(data.get(0).train().size());
        this.gradAccumulation = first.gradAccumulation();
        for (int k = 0; k < specs.size(); k++) {
            TrainSpec s = specs.get(k);
            PackedData d = data.get(k);
            String name = "Cannot fuse adapter " + s.adapterName() + " with " + first.adapterName() + ": ";
            if (s.mode() != TrainMode.LORA) {
                throw new IllegalArgumentException(name + "its mode is " + s.mode() + ", expected LORA");
            }
            if (d.train().isEmpty()) {
                throw new IllegalArgumentException("Cannot train adapter " + s.adapterName() + ": no training windows");
            }
            int seq = d.train().get(0).seqLen();
            if (s.batchSize() != first.batchSize() || s.seqLen() != first.seqLen() || seq != first.seqLen()
                    || s.gradAccumulation() != gradAccumulation || s.totalSteps(d.train().size()) != totalSteps) {
                throw new IllegalArgumentException(name + "batch " + s.batchSize() + " × seq " + seq + ", "
                        + s.gradAccumulation() + " micro-batches, " + s.totalSteps(d.train().size())
                        + " steps; fused adapters need the same batch × seq, accumulation and steps (batch "
                        + first.batchSize() + " × seq " + first.seqLen() + ", " + gradAccumulation + ", "
                        + totalSteps + ")");
            }
            AdapterTrainer.checkTokenIds(s.adapterName(), d, base.config().vocabSize());
            members.add(new Member(s, adapters.get(k), d, model.parameters(k), totalSteps));
            model.dropoutRng(k).setState(s.seed() ^ AdapterTrainer.DROPOUT_SALT);
        }
    }

    /** Calls {@code listener} with the step number after every optimizer step of all K adapters. */
    public FusedAdapterTrainer onStep(IntConsumer listener) {
        this.onStep = listener;
        return this;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** Trains all K adapters to the end; one result per adapter, in the order given. */
    public List<TrainResult> run() {
        long t0 = System.nanoTime();
        long trainNanos = 0;
        long evalNanos = 0;
        for (int step = 1; step <= totalSteps; step++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new TrainingStoppedException("Fused training of " + members.size() + " adapters stopped "
                        + "before step " + step + " of " + totalSteps + ": the task was interrupted");
            }
            long s0 = System.nanoTime();
            step(step);
            long s1 = System.nanoTime();
            trainNanos += s1 - s0;
            onStep.accept(step);
            for (Member m : members) {
                if (!m.data.heldOut().isEmpty() && (step == totalSteps
                        || (m.spec.evalEvery() > 0 && step % m.spec.evalEvery() == 0))) {
                    if (m.evalModel == null) {
                        m.evalModel = CausalLms.withAdapter(base, m.adapter);
                    }
                    double lr = m.trainHistory.get(step - 1).learningRate();
                    m.heldOutHistory.add(new LossPoint(step, Window.meanLoss(m.evalModel, m.data.heldOut(),
                            m.spec.batchSize()), lr));
                }
            }
            evalNanos += System.nanoTime() - s1;
        }
        double k = members.size();
        TrainResult.Timings timings = new TrainResult.Timings(trainNanos / 1e9 / k, evalNanos / 1e9 / k, 0,
                (System.nanoTime() - t0) / 1e9 / k);
        List<TrainResult> out = new ArrayList<>();
        for (Member m : members) {
            Map<String, Tensor> params = new LinkedHashMap<>();
            m.params.forEach(p -> params.put(p.name(), p.value()));
            double heldOut = m.heldOutHistory.isEmpty() ? Double.NaN
                    : m.heldOutHistory.get(m.heldOutHistory.size() - 1).loss();
            out.add(new TrainResult(m.spec.adapterName(), TrainMode.LORA, params, totalSteps, 0,
                    m.trainHistory.get(totalSteps - 1).loss(), heldOut, List.copyOf(m.trainHistory),
                    List.copyOf(m.heldOutHistory), (long) totalSteps * m.spec.tokensPerStep(), timings));
        }
        return out;
    }

    /** One optimizer step of every adapter: fused micro-batches, then each adapter's clip and AdamW step. */
    private void step(int step) {
        for (Member m : members) {
            m.params.forEach(p -> p.grad().fill(0f));
            m.lossSum = 0;
        }
        model.train();
        for (int micro = 0; micro < gradAccumulation; micro++) {
            List<Batch> batches = new ArrayList<>();
            members.forEach(m -> batches.add(m.batches.next()));
            double[] losses = model.forward(batches);
            for (int k = 0; k < losses.length; k++) {
                Member m = members.get(k);
                if (!Double.isFinite(losses[k])) {
                    throw new IllegalStateException("Cannot train adapter " + m.spec.adapterName() + ": loss is "
                            + losses[k] + " at step " + step + " (learning rate " + m.schedule.at(step - 1) + ")");
                }
                m.lossSum += losses[k];
            }
            model.backward();
        }
        for (Member m : members) {
            double lr = m.schedule.at(step - 1);
            double gradNorm = AdamW.gradNorm(m.params) / gradAccumulation;
            if (!Double.isFinite(gradNorm)) {
                throw new IllegalStateException("Cannot train adapter " + m.spec.adapterName() + ": gradient norm is "
                        + gradNorm + " at step " + step + " (learning rate " + lr + ")");
            }
            m.optimizer.step(lr, AdamW.clipFactor(gradNorm, m.spec.gradClip()) / gradAccumulation);
            m.trainHistory.add(new LossPoint(step, m.lossSum / gradAccumulation, lr));
        }
    }
}
