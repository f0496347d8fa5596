package io.sparklora.job;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The training loop of one adapter (or of all weights, for {@code pretrain}): what runs inside one Spark task, with no
 * Spark in it. Batches come from the packed windows in a seeded shuffled order per epoch; each optimizer step sums the
 * gradients of {@code gradAccumulation} micro-batches, averages them, clips them by global norm, and takes an AdamW
 * step at the warm-up/cosine learning rate. The held-out loss is measured every {@code evalEvery} steps and at the
 * end; a checkpoint is written every {@code checkpointEvery} steps and at the end, and a run started where a
 * checkpoint exists continues from it exactly.
 *
 * <p>Reproducibility: with the same spec, data, model and thread count, two runs produce the same bits. Everything
 * random (the data order, dropout) comes from {@link io.sparklora.util.SplitMix64} streams whose states are in the
 * checkpoint.
 *
 * <p>Lifecycle: one trainer per run and per thread; it owns the model's gradients and the optimizer state.
 */
public final class AdapterTrainer {
    static final long DROPOUT_SALT = 0x6472_6f70_6f75_7431L; // "dropout1": dropout's own stream of the seed
    private final TrainSpec spec;
    private final CausalLm model;
    private final PackedData data;
    private final List<Parameter> params;
    private final AdamW optimizer;
    private final BatchStream batches;
    private final LrSchedule schedule;
    private final int totalSteps;
    private final String dataFingerprint; // SHA-256 of the spec and the windows
    private String identity = ""; // what else made the run (the base model's hash, the tokenizer): see identifiedBy
    private TrainerCheckpoint checkpoint; // null: no checkpoints
    private TrainProgress progress = TrainProgress.NONE;
    private BooleanSupplier stopRequested = () -> false;

    public AdapterTrainer(TrainSpec spec, CausalLm model, PackedData data) {
        if (data.train().isEmpty()) {
            throw new IllegalArgumentException("Cannot train adapter " + spec.adapterName() + ": no training windows");
        }
        int seq = data.train().get(0).seqLen();
        if (seq != spec.seqLen()) {
            throw new IllegalArgumentException("Cannot train adapter " + spec.adapterName() + ": windows have " + seq
                    + " tokens, the spec's seqLen is " + spec.seqLen());
        }
        if (seq > model.config().maxPositions()) {
            throw new IllegalArgumentException("Cannot train adapter " + spec.adapterName() + ": seqLen " + seq
                    + " exceeds the model's max positions " + model.config().maxPositions() + " ("
                    + model.config().positionLimit() + ")");
        }
        checkTokenIds(spec.adapterName(), data, model.config().vocabSize());
        this.spec = spec;
        this.model = model;
        this.data = data;
        this.params = List.copyOf(model.trainableParameters());
        this.optimizer = new AdamW(params, spec.beta1(), spec.beta2(), spec.eps(), spec.weightDecay());
        this.batches = new BatchStream(data.train(), spec.batchSize(), spec.seed());
        this.totalSteps = spec.totalSteps(data.train().size());
        this.schedule = new LrSchedule(spec.learningRate(), spec.warmupSteps(), totalSteps, spec.minLrRatio());
        model.dropoutRng().setState(spec.seed() ^ DROPOUT_SALT);
        this.dataFingerprint = TrainerState.fingerprint(spec, data);
    }

    /**
     * A LoRA run: {@code adapter} (usually {@code LoraAdapter.initialize(spec.lora(), base.config())}) over the frozen
     * {@code base}, which the run never writes to.
     */
    public static AdapterTrainer lora(TrainSpec spec, BaseModel base, LoraAdapter adapter, PackedData data) {
        if (spec.mode() != TrainMode.LORA) {
            throw new IllegalArgumentException("Cannot train adapter " + spec.adapterName() + " as LoRA: the spec's "
                    + "mode is " + spec.mode());
        }
        return new AdapterTrainer(spec, CausalLms.withAdapter(base, adapter), data);
    }

    /** A full-weights run ({@code pretrain}, full fine-tuning): every tensor of {@code base} is updated in place. */
    public static AdapterTrainer fullWeights(TrainSpec spec, BaseModel base, PackedData data) {
        if (spec.mode() != TrainMode.FULL_WEIGHTS) {
            throw new IllegalArgumentException("Cannot train " + spec.adapterName() + " with all weights: the spec's "
                    + "mode is " + spec.mode());
        }
        return new AdapterTrainer(spec, CausalLms.fullWeights(base), data);
    }

    static void checkTokenIds(String adapter, PackedData data, int vocab) {
        for (List<Window> part : List.of(data.train(), data.heldOut())) {
            for (Window w : part) {
                for (int id : w.inputs()) {
                    if (id < 0 || id >= vocab) {
                        throw new IllegalArgumentException("Cannot train adapter " + adapter + ": token id " + id
                                + " is outside the model's vocabulary of " + vocab
                                + " (does the tokenizer belong to this model?)");
                    }
                }
            }
        }
    }

    /** Writes checkpoints to, and resumes from, {@code store}. */
    public AdapterTrainer checkpointTo(TrainerCheckpoint store) {
        this.checkpoint = store;
        return this;
    }

    /**
     * Mixes what else made this run into the checkpoints' fingerprint — the adapter's fingerprint (base model hash,
     * settings, tokenizer, data digest) — so a checkpoint written over another base is never resumed.
     */
    public AdapterTrainer identifiedBy(String fingerprint) {
        this.identity = fingerprint;
        return this;
    }

    /**
     * Stops the run with {@link TrainingStoppedException} before the next step once {@code stop} says so (a killed
     * Spark task); the thread's interrupt flag stops it the same way.
     */
    public AdapterTrainer stopWhen(BooleanSupplier stop) {
        this.stopRequested = stop;
        return this;
    }

    /** The fingerprint checkpoints of this run carry: SHA-256 of the identity and of the spec and windows. */
    public String runFingerprint() {
        return Fingerprint.sha256(identity + "\n" + dataFingerprint);
    }

    /** Reports every step to {@code listener}. */
    public AdapterTrainer onProgress(TrainProgress listener) {
        this.progress = listener;
        return this;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** Trains to the end (from the latest checkpoint when there is one) and returns the result. */
    public TrainResult run() {
        long t0 = System.nanoTime();
        List<LossPoint> trainHistory = new ArrayList<>();
        List<LossPoint> heldOutHistory = new ArrayList<>();
        int step = 0;
        if (checkpoint != null) {
            Optional<TrainerState> saved = io(() -> checkpoint.loadLatest());
            checkpoint.notices().forEach(progress::onNotice);
            String mismatch = saved.map(this::mismatch).orElse(null);
            if (mismatch != null) {
                progress.onNotice("Discarding checkpoint of adapter " + spec.adapterName() + " at "
                        + checkpoint.location() + " (step " + saved.get().step() + "): " + mismatch
                        + "; training from step 0");
                io(() -> {
                    checkpoint.discard();
                    return null;
                });
                saved = Optional.empty();
            }
            if (saved.isPresent()) {
                restore(saved.get());
                step = saved.get().step();
                trainHistory.addAll(saved.get().trainHistory());
                heldOutHistory.addAll(saved.get().heldOutHistory());
            }
        }
        int resumedFrom = step;
        long trainNanos = 0;
        long evalNanos = 0;
        long checkpointNanos = 0;
        long tokens = 0;
        for (Parameter p : params) {
            p.grad().fill(0f);
        }
        while (step < totalSteps) {
            if (Thread.currentThread().isInterrupted() || stopRequested.getAsBoolean()) {
                throw new TrainingStoppedException("Training of adapter " + spec.adapterName() + " stopped before step "
                        + (step + 1) + " of " + totalSteps + ": the task was interrupted");
            }
            long s0 = System.nanoTime();
            double lr = schedule.at(step);
            model.train();
            double lossSum = 0;
            for (int micro = 0; micro < spec.gradAccumulation(); micro++) {
                Batch batch = batches.next();
                double loss = model.forward(batch);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("Cannot train adapter " + spec.adapterName() + ": loss is "
                            + loss + " at step " + (step + 1) + " (learning rate " + lr + ")");
                }
                model.backward();
                lossSum += loss;
                tokens += batch.rows();
            }
            double loss = lossSum / spec.gradAccumulation();
            // Gradients hold the sum over micro-batches; the mean's norm is the sum's over gradAccumulation.
            double gradNorm = AdamW.gradNorm(params) / spec.gradAccumulation();
            if (!Double.isFinite(gradNorm)) {
                throw new IllegalStateException("Cannot train adapter " + spec.adapterName() + ": gradient norm is "
                        + gradNorm + " at step " + (step + 1) + " (learning rate " + lr + ")");
            }
            double scale = AdamW.clipFactor(gradNorm, spec.gradClip()) / spec.gradAccumulation();
            optimizer.step(lr, scale);
            step++;
            long s1 = System.nanoTime();
            trainNanos += s1 - s0;
            trainHistory.add(new LossPoint(step, loss, lr));

            double heldOut = Double.NaN;
            boolean last = step == totalSteps;
            if (!data.heldOut().isEmpty() && (last || (spec.evalEvery() > 0 && step % spec.evalEvery() == 0))) {
                heldOut = heldOutLoss();
                heldOutHistory.add(new LossPoint(step, heldOut, lr));
            }
            long s2 = System.nanoTime();
            evalNanos += s2 - s1;
            if (checkpoint != null && (last || (spec.checkpointEvery() > 0 && step % spec.checkpointEvery() == 0))) {
                TrainerState state = state(step, trainHistory, heldOutHistory);
                io(() -> {
                    checkpoint.save(state);
                    return null;
                });
            }
            checkpointNanos += System.nanoTime() - s2;
            double tokPerSec = spec.tokensPerStep() / ((s1 - s0) / 1e9);
            double eta = (System.nanoTime() - t0) / 1e9 / (step - resumedFrom) * (totalSteps - step);
            progress.onStep(new StepReport(spec.adapterName(), step, totalSteps, loss, lr, gradNorm, heldOut,
                    tokPerSec, eta));
        }
        double finalHeldOut = heldOutHistory.isEmpty() ? Double.NaN
                : heldOutHistory.get(heldOutHistory.size() - 1).loss();
        double finalTrain = trainHistory.isEmpty() ? Double.NaN : trainHistory.get(trainHistory.size() - 1).loss();
        TrainResult.Timings timings = new TrainResult.Timings(trainNanos / 1e9, evalNanos / 1e9,
                checkpointNanos / 1e9, (System.nanoTime() - t0) / 1e9);
        return new TrainResult(spec.adapterName(), spec.mode(), parameterMap(), totalSteps, resumedFrom, finalTrain,
                finalHeldOut, List.copyOf(trainHistory), List.copyOf(heldOutHistory), tokens, timings);
    }

    /**
     * Mean token cross-entropy over the held-out windows (each batch's mean weighted by its target count), with
     * dropout off.
     */
    public double heldOutLoss() {
        return Window.meanLoss(model, data.heldOut(), spec.batchSize());
    }

    private Map<String, Tensor> parameterMap() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : params) {
            out.put(p.name(), p.value());
        }
        return out;
    }

    private TrainerState state(int step, List<LossPoint> trainHistory, List<LossPoint> heldOutHistory) {
        return state(spec.adapterName(), step, totalSteps, runFingerprint(), params, optimizer,
                model.dropoutRng().state(), batches, trainHistory, heldOutHistory);
    }

    /**
     * The checkpoint state of a run after {@code step}: {@code params}' values, their AdamW moments and step count,
     * the data position, the dropout stream and the histories (shared with the fused trainer, one member at a time).
     */
    static TrainerState state(String adapterName, int step, int totalSteps, String runFingerprint,
                              List<Parameter> params, AdamW optimizer, long dropoutRngState, BatchStream batches,
                              List<LossPoint> trainHistory, List<LossPoint> heldOutHistory) {
        Map<String, Tensor> values = new LinkedHashMap<>();
        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, Tensor> v = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            values.put(params.get(i).name(), params.get(i).value());
            m.put(params.get(i).name(), optimizer.firstMoment(i));
            v.put(params.get(i).name(), optimizer.secondMoment(i));
        }
        return new TrainerState(adapterName, step, totalSteps, runFingerprint, optimizer.stepCount(), dropoutRngState,
                batches.position(), values, m, v, List.copyOf(trainHistory), List.copyOf(heldOutHistory));
    }

    /**
     * Why a saved state cannot be resumed by this run (another adapter, run length, spec, data, base or tensor
     * count), or null when it can.
     */
    private String mismatch(TrainerState s) {
        return mismatch(s, spec.adapterName(), totalSteps, runFingerprint(), params.size());
    }

    /** Why {@code s} cannot be resumed by a run of these, or null when it can (shared with the fused trainer). */
    static String mismatch(TrainerState s, String adapterName, int totalSteps, String runFingerprint, int tensors) {
        if (!s.adapterName().equals(adapterName)) {
            return "it is of adapter " + s.adapterName();
        }
        if (s.totalSteps() != totalSteps) {
            return "it is of a run of " + s.totalSteps() + " steps, this run has " + totalSteps;
        }
        if (!s.runFingerprint().equals(runFingerprint)) {
            return "it was written by a run with another base model, spec or data (fingerprint "
                    + s.runFingerprint() + ", this run's " + runFingerprint + ")";
        }
        if (s.parameters().size() != tensors) {
            return "it holds " + s.parameters().size() + " trainable tensors, the model has " + tensors;
        }
        return null;
    }

    private void restore(TrainerState s) {
        restore(s, "Cannot resume adapter " + spec.adapterName() + " from " + checkpoint.location(), params,
                optimizer, batches);
        model.dropoutRng().setState(s.dropoutRngState());
    }

    /**
     * Restores {@code params}' values, their AdamW moments and step count, and the data position from {@code s}, each
     * tensor checked against its live shape ({@code where} starts the error); the dropout stream and the histories
     * are the caller's (shared with the fused trainer).
     */
    static void restore(TrainerState s, String where, List<Parameter> params, AdamW optimizer, BatchStream batches) {
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            copyChecked(where, "parameter", p.name(), s.parameters().get(p.name()), p.value());
            copyChecked(where, "AdamW m of", p.name(), s.adamM().get(p.name()), optimizer.firstMoment(i));
            copyChecked(where, "AdamW v of", p.name(), s.adamV().get(p.name()), optimizer.secondMoment(i));
        }
        optimizer.restoreStepCount(s.adamStep());
        batches.restore(s.data());
    }

    private static void copyChecked(String where, String what, String name, Tensor saved, Tensor live) {
        if (saved == null) {
            throw new IllegalStateException(where + ": " + what + " " + name + " is missing");
        }
        if (!java.util.Arrays.equals(saved.shape(), live.shape())) {
            throw new IllegalStateException(where + ": " + what + " " + name + " has shape "
                    + java.util.Arrays.toString(saved.shape()) + ", the model's is "
                    + java.util.Arrays.toString(live.shape()));
        }
        live.copyFrom(saved);
    }

    interface IoAction<T> {
        T run() throws IOException;
    }

    static <T> T io(IoAction<T> action) {
        try {
            return action.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}
