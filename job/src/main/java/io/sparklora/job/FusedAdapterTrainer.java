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
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * K LoRA adapters trained in one task over one frozen base ({@link FusedAdapterLm}): every step runs the K adapters'
 * batches as one fused forward and backward, then each adapter clips its own gradients and takes its own AdamW step
 * at its own schedule. The data order, dropout streams, optimizer and held-out evaluation of each adapter are those
 * of {@link AdapterTrainer}, so the results equal training the K adapters one by one (up to float rounding).
 *
 * <p>Failure isolation: a member whose own data or numerics fail (no training window, a token id outside the
 * vocabulary, a NaN loss or gradient norm) fails alone, with the message {@link AdapterTrainer} would give; the others
 * go on. Every row of the fused batch is computed from its own adapter's rows only (frozen GEMMs, norms and the LoRA
 * branches are per row, attention per sequence), so a failed member's NaN never reaches another's numbers; after
 * the step it failed in, the fused model is rebuilt over the survivors, which keep their weights, optimizer states,
 * data positions and dropout streams.
 *
 * <p>The adapters must share batch size, sequence length, gradient accumulation, step count and checkpoint interval
 * (one fused batch per micro-step). Timings: each adapter is charged 1/K of the fused training time, so the sum of
 * their tokens per second is the aggregate rate.
 *
 * <p>Checkpoints ({@link #checkpointTo}): each member writes its own, in its own directory, exactly as
 * {@link AdapterTrainer} would (same {@link TrainerState}, format and run fingerprint, so a single run resumes a fused
 * member's checkpoint and the other way round), every {@code checkpointEvery} steps and at the end. Every member
 * writes step N before any deletes its step before N, so a crash between two members' writes still leaves each one
 * a checkpoint of a common step. A run resumes all members at the latest step every one of them has a valid
 * checkpoint of (the minimum of their latest ones) and deletes the members' later checkpoints: the members step
 * together over one fused batch, so starting them all at that step replays exactly the uninterrupted run's fused
 * steps (same members, same rows, same GEMM shapes: the same bits), where letting the ones behind catch up alone
 * would compute their steps over other batch shapes. A member without a checkpoint resumes the group from step 0.
 */
public final class FusedAdapterTrainer {
    private final BaseModel base;
    private final List<Member> members; // (K) in the order given
    private final int totalSteps;
    private final int gradAccumulation;
    private FusedAdapterLm model; // over the members still training; rebuilt when one fails
    private List<Member> alive; // members of model, in its adapter order
    private IntConsumer onStep = step -> { };
    private TrainProgress progress = TrainProgress.NONE;
    private BooleanSupplier stopRequested = () -> false;
    private boolean checkpointing; // whether every member has a checkpoint store

    /** What became of one member: its result, or why it failed (then {@code result} is null). */
    public record Outcome(String adapterName, TrainResult result, String failure) {
        public boolean failed() {
            return failure != null;
        }
    }

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
        String failure; // null while it trains
        TrainerCheckpoint checkpoint; // its own directory, or null: no checkpoints
        String identity = ""; // what else made its run (see AdapterTrainer.identifiedBy)
        String dataFingerprint; // SHA-256 of the spec and the windows, computed on first use
        CausalLm evalModel; // a single-adapter view for held-out loss, made on first use

        Member(TrainSpec spec, LoraAdapter adapter, PackedData data, int totalSteps) {
            this.spec = spec;
            this.adapter = adapter;
            this.data = data;
            this.params = List.copyOf(adapter.parameters());
            this.optimizer = new AdamW(params, spec.beta1(), spec.beta2(), spec.eps(), spec.weightDecay());
            this.batches = new BatchStream(data.train(), spec.batchSize(), spec.seed());
            this.schedule = new LrSchedule(spec.learningRate(), spec.warmupSteps(), totalSteps, spec.minLrRatio());
        }

        String runFingerprint() {
            if (dataFingerprint == null) {
                dataFingerprint = TrainerState.fingerprint(spec, data);
            }
            return Fingerprint.sha256(identity + "\n" + dataFingerprint);
        }

        String mismatch(TrainerState s, int totalSteps) {
            return AdapterTrainer.mismatch(s, spec.adapterName(), totalSteps, runFingerprint(), params.size());
        }

        TrainerState state(int step, int totalSteps, long dropoutRngState) {
            return AdapterTrainer.state(spec.adapterName(), step, totalSteps, runFingerprint(), params, optimizer,
                    dropoutRngState, batches, trainHistory, heldOutHistory);
        }

        /** Its weights, optimizer, data position and histories from {@code s}; returns the dropout state to set. */
        long restore(TrainerState s) {
            AdapterTrainer.restore(s, "Cannot resume adapter " + spec.adapterName() + " from "
                    + checkpoint.location(), params, optimizer, batches);
            trainHistory.addAll(s.trainHistory());
            heldOutHistory.addAll(s.heldOutHistory());
            return s.dropoutRngState();
        }

        CausalLm evalModel(BaseModel base) {
            if (evalModel == null) {
                evalModel = CausalLms.withAdapter(base, adapter);
            }
            return evalModel;
        }
    }

    /**
     * Members whose data cannot train (no window, token ids outside the vocabulary) are failed now, alone; members of
     * another batch × seq, accumulation or step count than the first trainable one are refused (the caller groups
     * compatible adapters).
     */
    public FusedAdapterTrainer(BaseModel base, List<TrainSpec> specs, List<LoraAdapter> adapters,
                               List<PackedData> data) {
        if (specs.isEmpty() || specs.size() != adapters.size() || specs.size() != data.size()) {
            throw new IllegalArgumentException("Cannot fuse adapters: " + specs.size() + " specs, " + adapters.size()
                    + " adapters and " + data.size() + " data sets, expected the same number (at least 1) of each");
        }
        this.base = base;
        this.members = new ArrayList<>();
        String[] failures = new String[specs.size()];
        int first = -1;
        for (int k = 0; k < specs.size(); k++) {
            TrainSpec s = specs.get(k);
            if (s.mode() != TrainMode.LORA) {
                throw new IllegalArgumentException("Cannot fuse adapter " + s.adapterName() + ": its mode is "
                        + s.mode() + ", expected LORA");
            }
            try {
                if (data.get(k).train().isEmpty()) {
                    throw new IllegalArgumentException("Cannot train adapter " + s.adapterName()
                            + ": no training windows");
                }
                AdapterTrainer.checkTokenIds(s.adapterName(), data.get(k), base.config().vocabSize());
                first = first < 0 ? k : first;
            } catch (IllegalArgumentException e) {
                failures[k] = e.getMessage();
            }
        }
        TrainSpec lead = specs.get(Math.max(first, 0));
        this.totalSteps = first < 0 ? 0 : lead.totalSteps(data.get(first).train().size());
        this.gradAccumulation = lead.gradAccumulation();
        for (int k = 0; k < specs.size(); k++) {
            TrainSpec s = specs.get(k);
            PackedData d = data.get(k);
            if (failures[k] == null) {
                int seq = d.train().get(0).seqLen();
                if (s.batchSize() != lead.batchSize() || s.seqLen() != lead.seqLen() || seq != lead.seqLen()
                        || s.gradAccumulation() != gradAccumulation || s.totalSteps(d.train().size()) != totalSteps
                        || s.checkpointEvery() != lead.checkpointEvery()) {
                    throw new IllegalArgumentException("Cannot fuse adapter " + s.adapterName() + " with "
                            + lead.adapterName() + ": batch " + s.batchSize() + " × seq " + seq + ", "
                            + s.gradAccumulation() + " micro-batches, " + s.totalSteps(d.train().size())
                            + " steps, checkpoint every " + s.checkpointEvery() + "; fused adapters need the same "
                            + "batch × seq, accumulation, steps and checkpoint interval (batch " + lead.batchSize()
                            + " × seq " + lead.seqLen() + ", " + gradAccumulation + ", " + totalSteps + ", "
                            + lead.checkpointEvery() + ")");
                }
            }
            Member m = new Member(s, adapters.get(k), d, Math.max(1, totalSteps));
            m.failure = failures[k];
            members.add(m);
        }
        this.alive = members.stream().filter(m -> m.failure == null).toList();
        this.model = alive.isEmpty() ? null : FusedAdapterLm.of(base, alive.stream().map(m -> m.adapter).toList());
        for (int k = 0; k < alive.size(); k++) {
            model.dropoutRng(k).setState(alive.get(k).spec.seed() ^ AdapterTrainer.DROPOUT_SALT);
        }
    }

    /**
     * Writes each member's checkpoints to, and resumes it from, its own store: {@code stores.get(k)} is member k's
     * (in the order given), as {@link AdapterTrainer#checkpointTo} for a single adapter.
     */
    public FusedAdapterTrainer checkpointTo(List<TrainerCheckpoint> stores) {
        if (stores.size() != members.size()) {
            throw new IllegalArgumentException("Cannot checkpoint " + members.size() + " fused adapters to "
                    + stores.size() + " checkpoint directories: expected one each");
        }
        for (int k = 0; k < stores.size(); k++) {
            members.get(k).checkpoint = stores.get(k);
        }
        this.checkpointing = true;
        return this;
    }

    /**
     * Mixes what else made each member's run into its checkpoints' fingerprint, as
     * {@link AdapterTrainer#identifiedBy} does: {@code fingerprints.get(k)} is member k's.
     */
    public FusedAdapterTrainer identifiedBy(List<String> fingerprints) {
        if (fingerprints.size() != members.size()) {
            throw new IllegalArgumentException("Cannot identify " + members.size() + " fused adapters by "
                    + fingerprints.size() + " fingerprints: expected one each");
        }
        for (int k = 0; k < fingerprints.size(); k++) {
            members.get(k).identity = fingerprints.get(k);
        }
        return this;
    }

    /** Member k's checkpoint fingerprint: the one {@link AdapterTrainer#runFingerprint} gives the same run alone. */
    public String runFingerprint(int k) {
        return members.get(k).runFingerprint();
    }

    /** Calls {@code listener} with the step number after every optimizer step of all K adapters. */
    public FusedAdapterTrainer onStep(IntConsumer listener) {
        this.onStep = listener;
        return this;
    }

    /** Reports every step of every member still training to {@code listener}, as {@link AdapterTrainer} does. */
    public FusedAdapterTrainer onProgress(TrainProgress listener) {
        this.progress = listener;
        return this;
    }

    /** Stops the run with {@link TrainingStoppedException} before the next step once {@code stop} says so. */
    public FusedAdapterTrainer stopWhen(BooleanSupplier stop) {
        this.stopRequested = stop;
        return this;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** Member k's held-out loss with its current weights (before {@link #run}: the base's, as B = 0), or NaN. */
    public double heldOutLoss(int k) {
        Member m = members.get(k);
        return m.data.heldOut().isEmpty() ? Double.NaN
                : Window.meanLoss(m.evalModel(base), m.data.heldOut(), m.spec.batchSize());
    }

    /**
     * Trains the members to the end (from their common latest checkpoint when there is one); one outcome per member,
     * in the order given.
     */
    public List<Outcome> run() {
        long t0 = System.nanoTime();
        long trainNanos = 0;
        long evalNanos = 0;
        long checkpointNanos = 0;
        double k = members.size();
        int resumedFrom = resume();
        for (int step = resumedFrom + 1; step <= totalSteps && !alive.isEmpty(); step++) {
            if (Thread.currentThread().isInterrupted() || stopRequested.getAsBoolean()) {
                throw new TrainingStoppedException("Fused training of " + members.size() + " adapters stopped "
                        + "before step " + step + " of " + totalSteps + ": the task was interrupted");
            }
            long s0 = System.nanoTime();
            double[] gradNorms = step(step);
            long s1 = System.nanoTime();
            trainNanos += s1 - s0;
            List<StepReport> reports = new ArrayList<>();
            for (int i = 0; i < alive.size(); i++) {
                Member m = alive.get(i);
                if (m.failure != null) {
                    continue;
                }
                LossPoint point = m.trainHistory.get(step - 1);
                double heldOut = Double.NaN;
                if (!m.data.heldOut().isEmpty() && (step == totalSteps
                        || (m.spec.evalEvery() > 0 && step % m.spec.evalEvery() == 0))) {
                    heldOut = Window.meanLoss(m.evalModel(base), m.data.heldOut(), m.spec.batchSize());
                    m.heldOutHistory.add(new LossPoint(step, heldOut, point.learningRate()));
                }
                double eta = (System.nanoTime() - t0) / 1e9 / (step - resumedFrom) * (totalSteps - step);
                reports.add(new StepReport(m.spec.adapterName(), step, totalSteps, point.loss(),
                        point.learningRate(), gradNorms[i], heldOut, m.spec.tokensPerStep() * k / ((s1 - s0) / 1e9),
                        eta));
            }
            long s2 = System.nanoTime();
            evalNanos += s2 - s1;
            dropFailed();
            saveCheckpoints(step);
            checkpointNanos += System.nanoTime() - s2;
            onStep.accept(step);
            reports.forEach(progress::onStep);
        }
        TrainResult.Timings timings = new TrainResult.Timings(trainNanos / 1e9 / k, evalNanos / 1e9 / k,
                checkpointNanos / 1e9 / k, (System.nanoTime() - t0) / 1e9 / k);
        List<Outcome> out = new ArrayList<>();
        for (Member m : members) {
            if (m.failure != null) {
                out.add(new Outcome(m.spec.adapterName(), null, m.failure));
                continue;
            }
            Map<String, Tensor> params = new LinkedHashMap<>();
            m.params.forEach(p -> params.put(p.name(), p.value()));
            double heldOut = m.heldOutHistory.isEmpty() ? Double.NaN
                    : m.heldOutHistory.get(m.heldOutHistory.size() - 1).loss();
            out.add(new Outcome(m.spec.adapterName(), new TrainResult(m.spec.adapterName(), TrainMode.LORA, params,
                    totalSteps, resumedFrom, m.trainHistory.get(totalSteps - 1).loss(), heldOut,
                    List.copyOf(m.trainHistory), List.copyOf(m.heldOutHistory),
                    (long) (totalSteps - resumedFrom) * m.spec.tokensPerStep(), timings), null));
        }
        return out;
    }

    /**
     * Restores every member still training from the checkpoint of the latest step all of them have one of (see the
     * class comment: the same step for all, so the resumed fused steps are the uninterrupted run's), deletes their
     * checkpoints after it, and returns that step (0: none, or no checkpoints).
     */
    private int resume() {
        if (!checkpointing || alive.isEmpty()) {
            return 0;
        }
        List<TrainerState> saved = new ArrayList<>(); // (alive) each one's state at the common step, or null
        int common = Integer.MAX_VALUE;
        for (Member m : alive) {
            TrainerState s = AdapterTrainer.io(() -> m.checkpoint.loadLatest()).orElse(null);
            String mismatch = s == null ? null : m.mismatch(s, totalSteps);
            if (mismatch != null) {
                progress.onNotice("Discarding checkpoint of adapter " + m.spec.adapterName() + " at "
                        + m.checkpoint.location() + " (step " + s.step() + "): " + mismatch + "; training from step 0");
                AdapterTrainer.io(() -> {
                    m.checkpoint.discard();
                    return null;
                });
                s = null;
            }
            saved.add(s);
            common = Math.min(common, s == null ? 0 : s.step());
        }
        // Members ahead load their latest checkpoint at or before the common step; one that has none there lowers it.
        for (boolean settled = false; !settled; ) {
            settled = true;
            for (int i = 0; i < alive.size(); i++) {
                TrainerState s = saved.get(i);
                if (s == null || s.step() <= common) {
                    continue;
                }
                Member m = alive.get(i);
                int upTo = common;
                TrainerState earlier = AdapterTrainer.io(() -> m.checkpoint.loadLatestUpTo(upTo))
                        .filter(e -> m.mismatch(e, totalSteps) == null).orElse(null);
                saved.set(i, earlier);
                int step = earlier == null ? 0 : earlier.step();
                if (step < common) {
                    common = step;
                    settled = false;
                }
            }
        }
        for (int i = 0; i < alive.size(); i++) {
            Member m = alive.get(i);
            m.checkpoint.notices().forEach(progress::onNotice);
            int at = common;
            if (AdapterTrainer.io(() -> m.checkpoint.deleteNewerThan(at))) {
                progress.onNotice("Discarding checkpoints of adapter " + m.spec.adapterName() + " after step "
                        + common + " at " + m.checkpoint.location() + ": its fused group resumes at step " + common
                        + ", the latest step every member has a checkpoint of");
            }
            if (saved.get(i) != null) {
                model.dropoutRng(i).setState(m.restore(saved.get(i)));
            }
        }
        return common;
    }

    /**
     * Every {@code checkpointEvery} steps and at the end: each member still training writes its checkpoint, and only
     * once all have, each deletes its older ones (see the class comment).
     */
    private void saveCheckpoints(int step) {
        int every = alive.isEmpty() ? 0 : alive.get(0).spec.checkpointEvery();
        if (!checkpointing || alive.isEmpty() || !(step == totalSteps || (every > 0 && step % every == 0))) {
            return;
        }
        AdapterTrainer.io(() -> {
            for (int i = 0; i < alive.size(); i++) {
                alive.get(i).checkpoint.saveKeepingOlder(alive.get(i).state(step, totalSteps,
                        model.dropoutRng(i).state()));
            }
            for (Member m : alive) {
                m.checkpoint.deleteOlderThan(step);
            }
            return null;
        });
    }

    /**
     * One optimizer step of every member still training: fused micro-batches, then each member's clip and AdamW
     * step; a member whose loss or gradient norm is not finite is marked failed and takes no step. Returns each alive
     * member's gradient norm.
     */
    private double[] step(int step) {
        for (Member m : alive) {
            m.params.forEach(p -> p.grad().fill(0f));
            m.lossSum = 0;
        }
        model.train();
        for (int micro = 0; micro < gradAccumulation; micro++) {
            List<Batch> batches = new ArrayList<>();
            alive.forEach(m -> batches.add(m.batches.next()));
            double[] losses = model.forward(batches);
            for (int i = 0; i < losses.length; i++) {
                Member m = alive.get(i);
                if (!Double.isFinite(losses[i]) && m.failure == null) {
                    m.failure = "Cannot train adapter " + m.spec.adapterName() + ": loss is " + losses[i]
                            + " at step " + step + " (learning rate " + m.schedule.at(step - 1) + ")";
                }
                m.lossSum += losses[i];
            }
            model.backward(); // a failed member's rows stay its own: the others' gradients are untouched
        }
        double[] gradNorms = new double[alive.size()];
        for (int i = 0; i < alive.size(); i++) {
            Member m = alive.get(i);
            if (m.failure != null) {
                continue;
            }
            double lr = m.schedule.at(step - 1);
            double gradNorm = AdamW.gradNorm(m.params) / gradAccumulation;
            gradNorms[i] = gradNorm;
            if (!Double.isFinite(gradNorm)) {
                m.failure = "Cannot train adapter " + m.spec.adapterName() + ": gradient norm is " + gradNorm
                        + " at step " + step + " (learning rate " + lr + ")";
                continue;
            }
            m.optimizer.step(lr, AdamW.clipFactor(gradNorm, m.spec.gradClip()) / gradAccumulation);
            m.trainHistory.add(new LossPoint(step, m.lossSum / gradAccumulation, lr));
        }
        return gradNorms;
    }

    /** Rebuilds the fused model over the members that have not failed, keeping their dropout streams where they are. */
    private void dropFailed() {
        if (alive.stream().allMatch(m -> m.failure == null)) {
            return;
        }
        List<Member> survivors = new ArrayList<>();
        List<Long> rngStates = new ArrayList<>();
        for (int i = 0; i < alive.size(); i++) {
            if (alive.get(i).failure == null) {
                survivors.add(alive.get(i));
                rngStates.add(model.dropoutRng(i).state());
            }
        }
        alive = List.copyOf(survivors);
        model = alive.isEmpty() ? null : FusedAdapterLm.of(base, alive.stream().map(m -> m.adapter).toList());
        for (int i = 0; i < alive.size(); i++) {
            model.dropoutRng(i).setState(rngStates.get(i));
        }
    }
}
