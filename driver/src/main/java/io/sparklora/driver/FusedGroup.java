package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Fingerprint;
import io.sparklora.job.FusedAdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.StepReport;
import io.sparklora.job.TrainProgress;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.job.TrainingStoppedException;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fused group of a training task ({@code --adapters-per-task K}): up to K adapters of a bin trained in one go by
 * {@link FusedAdapterTrainer} over the executor's one base (the mLoRA / ASPEN idea: each frozen GEMM runs once over
 * the members' concatenated rows), then each member committed exactly as {@link AdapterTask#train} commits a single
 * adapter, its training.json naming the others in {@code fused_with}.
 *
 * <p>A member that spills ({@link KeyWindows#spills}: over {@code --spill-rows} or its heap share) streams its rows
 * into its spill file and trains alone, as without fusion.
 * Each other member is first checked alone, as the single path does (its rows pack, its windows fit the model): one
 * that fails there, or fails during the fused run (a NaN loss), is reported {@code failed} and the others commit.
 * Members that cannot fuse — step counts that differ ({@code --epochs} over different window counts) — train one
 * after another instead, the first reason logged once per job and executor.
 *
 * <p>Checkpoints: each member checkpoints under {@code <out>/_checkpoints/<name>/} exactly as a single adapter does
 * (same rule, format, fingerprint and per-attempt temporary directories, see {@link AdapterTask#trainAlone}); a
 * retried attempt resumes the whole group at the latest step every member has a checkpoint of
 * ({@link FusedAdapterTrainer}), and a group that trains one by one instead resumes each member from its own.
 */
final class FusedGroup {
    private static final Logger LOG = LoggerFactory.getLogger("io.sparklora.progress");
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet(); // outputs whose fallback was logged here
    private final AdapterTask task;
    private final TrainJobSpec job;

    FusedGroup(AdapterTask task) {
        this.task = task;
        this.job = task.job();
    }

    /** One member: its plan, rows and, once checked, its packed windows, initial adapter and base held-out loss. */
    private static final class Member {
        final AdapterPlan plan;
        final TrainSpec spec;
        final List<TrainRow> rows;
        AdapterTask.Packed packed;
        LoraAdapter adapter;
        int totalSteps;
        double baseHeldOut;

        Member(AdapterPlan plan, TrainSpec spec, List<TrainRow> rows) {
            this.plan = plan;
            this.spec = spec;
            this.rows = rows;
        }
    }

    /** Trains the adapters {@code indices} of the job from their rows; one outcome per adapter, in that order. */
    List<AdapterOutcome> train(int[] indices, AdapterBins.Rows<TrainRow> rows) throws IOException {
        AdapterTask.Attempt at = AdapterTask.Attempt.current();
        AdapterStore store = task.store();
        Map<String, AdapterOutcome> outcomes = new HashMap<>();
        List<Member> members = new ArrayList<>();
        for (int i : indices) {
            AdapterPlan plan = job.plans().get(i);
            if (store.isCommitted(plan.name(), job.fingerprintOf(plan))) { // an earlier attempt committed it
                outcomes.put(plan.name(), AdapterTask.committed(store, plan, Manifest.Status.EXISTING, 0,
                        at.number()));
                continue;
            }
            if (task.spills(plan)) { // too many rows to hold: streamed into its spill file and trained alone
                outcomes.put(plan.name(), task.trainAlone(plan, rows.of(i), store, at));
                continue;
            }
            List<TrainRow> own = new ArrayList<>();
            rows.of(i).forEachRemaining(own::add);
            members.add(new Member(plan, job.specOf(plan.name()), own));
        }
        Instant started = Instant.now();
        BaseModel model = task.baseModel();
        List<Member> viable = new ArrayList<>();
        for (Member m : members) {
            try { // the checks and messages of the single path
                m.packed = AdapterTask.pack(job.tokenizer().get(), m.spec, m.rows.iterator());
                m.adapter = LoraAdapter.initialize(m.spec.lora(), model.config());
                AdapterTrainer alone = AdapterTrainer.lora(m.spec, model, m.adapter, m.packed.data());
                m.totalSteps = alone.totalSteps();
                m.baseHeldOut = m.packed.data().heldOut().isEmpty() ? Double.NaN : alone.heldOutLoss(); // B = 0
                viable.add(m);
            } catch (IllegalArgumentException | IllegalStateException e) {
                store.fs().delete(task.checkpointDir(m.plan), true); // as the single path: nothing of it is left
                outcomes.put(m.plan.name(), new AdapterOutcome(m.plan.name(), Manifest.Status.FAILED, e.getMessage(),
                        0, at.number()));
            }
        }
        String why = viable.size() < 2 ? "" : refusal(viable);
        if (why == null) {
            why = trainFused(viable, model, store, at, started, outcomes);
        }
        if (why != null) { // one by one, as without --adapters-per-task
            if (!why.isEmpty() && LOGGED.add(job.outUri())) {
                LOG.warn("Training adapters one by one instead of fused: {} (logged once per job)", why);
            } else if (!why.isEmpty()) {
                LOG.debug("Training adapters one by one instead of fused: {}", why);
            }
            for (Member m : viable) {
                outcomes.put(m.plan.name(), task.trainAlone(m.plan, m.rows.iterator(), store, at));
            }
        }
        List<AdapterOutcome> out = new ArrayList<>();
        for (int i : indices) {
            out.add(outcomes.get(job.plans().get(i).name()));
        }
        return out;
    }

    private static String refusal(List<Member> viable) {
        int steps = viable.get(0).totalSteps;
        for (Member m : viable) {
            if (m.totalSteps != steps) {
                return "adapters " + viable.get(0).plan.name() + " and " + m.plan.name() + " take " + steps + " and "
                        + m.totalSteps + " steps, and fused adapters step together";
            }
        }
        return null;
    }

    /**
     * Trains {@code viable} fused and commits each member that succeeded; null when done, else why the group must
     * train one by one instead (the fused trainer refused it, or failed as a whole), with nothing committed.
     */
    private String trainFused(List<Member> viable, BaseModel model, AdapterStore store, AdapterTask.Attempt at,
                              Instant started, Map<String, AdapterOutcome> outcomes) throws IOException {
        TaskContext ctx = TaskContext.get();
        Map<String, ProgressLog> logs = new HashMap<>();
        Map<String, List<Tensor>> weights = new HashMap<>();
        List<PackedData> data = new ArrayList<>();
        List<TrainerCheckpoint> checkpoints = new ArrayList<>();
        List<String> identities = new ArrayList<>();
        for (Member m : viable) {
            logs.put(m.plan.name(), new ProgressLog(job.progressSeconds()));
            weights.put(m.plan.name(), TestHooks.weightsOf(m.adapter));
            data.add(m.packed.data());
            checkpoints.add(task.checkpointStore(m.plan, at.id()));
            identities.add(job.fingerprintOf(m.plan).combined());
        }
        List<FusedAdapterTrainer.Outcome> results;
        try {
            FusedAdapterTrainer trainer = new FusedAdapterTrainer(model, viable.stream().map(m -> m.spec).toList(),
                    viable.stream().map(m -> m.adapter).toList(), data)
                    .identifiedBy(identities)
                    .stopWhen(() -> ctx != null && ctx.isInterrupted())
                    .onProgress(new TrainProgress() {
                        @Override
                        public void onStep(StepReport report) {
                            logs.get(report.adapterName()).onStep(report);
                            job.hooks().afterStep(report.adapterName(), report.step(), at.first(),
                                    weights.get(report.adapterName()));
                        }

                        @Override
                        public void onNotice(String message) {
                            LOG.warn(message);
                        }
                    });
            // the single path's rule (same steps, same interval): no checkpoint when the run ends before the first
            if (AdapterTask.checkpoints(viable.get(0).spec, viable.get(0).totalSteps)) {
                trainer.checkpointTo(checkpoints);
            }
            results = trainer.run();
        } catch (TrainingStoppedException e) {
            LOG.warn("{} (attempt {})", e.getMessage(), at.id());
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            return "the fused run of " + viable.size() + " adapters failed: " + e.getMessage();
        }
        List<String> names = viable.stream().map(m -> m.plan.name()).toList();
        for (int k = 0; k < viable.size(); k++) {
            Member m = viable.get(k);
            FusedAdapterTrainer.Outcome r = results.get(k);
            if (r.failed()) { // its own data or numerics: leave nothing of it, as the single path does
                store.fs().delete(task.checkpointDir(m.plan), true);
                outcomes.put(m.plan.name(), new AdapterOutcome(m.plan.name(), Manifest.Status.FAILED, r.failure(), 0,
                        at.number()));
                continue;
            }
            List<String> others = names.stream().filter(n -> !n.equals(m.plan.name())).toList();
            Fingerprint fingerprint = job.fingerprintOf(m.plan);
            byte[] training = TrainingRecord.toJson(job, m.plan, m.spec, m.packed, KeyWindows.MEMORY,
                    m.baseHeldOut, r.result(), at.number(), started, fingerprint, others);
            boolean committed = store.commit(m.plan.name(), at.id(), m.adapter, job.baseModelUri(), training,
                    fingerprint);
            outcomes.put(m.plan.name(), AdapterTask.committed(store, m.plan, committed ? Manifest.Status.TRAINED
                    : Manifest.Status.EXISTING, r.result().resumedFromStep(), at.number()));
        }
        return null;
    }
}
