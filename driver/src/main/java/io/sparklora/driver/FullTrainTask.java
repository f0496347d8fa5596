package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Fingerprint;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.job.TrainSpec;
import io.sparklora.model.BaseModel;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.time.Instant;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * One Spark task of {@code train --full}: partition i holds the rows of model i, in content order. The task copies
 * the executor's shared base (training updates every weight in place, and other tasks share that base), packs its
 * rows as they stream in exactly as a LoRA task does ({@link KeyWindows}: over {@code --spill-rows} into a spill
 * file), trains every weight with the trainer {@code pretrain} uses
 * ({@link AdapterTrainer#fullWeights}: AdamW state for every weight) and commits {@code models/<name>/} through
 * {@link TunedModelStore}. With {@code --checkpoint-every N} it checkpoints as a LoRA task does
 * ({@link TrainerCheckpoint}: every weight and its AdamW moments in one safetensors file, the rest in state.json, each
 * attempt writing under its own temporary name) into {@code <out>/_checkpoints/<name>/}, and a retried attempt
 * resumes from the last one; a checkpoint is the model's size three times over, so without the option (the default
 * for {@code --full}: none) a retried attempt restarts from step 0. A failure of the model's own (its rows, a NaN loss) is returned as a
 * {@code failed} outcome so the other models commit. Holds only serializable state.
 */
final class FullTrainTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<BroadcastModel> base; // null under --base-on-executors
    private final TrainJobSpec job;
    private final HadoopConf conf;

    FullTrainTask(Broadcast<BroadcastModel> base, TrainJobSpec job, HadoopConf conf) {
        this.base = base;
        this.job = job;
        this.conf = conf;
    }

    /** Trains model {@code index}, the only one of its task ({@link AdapterBins#onePerTask}), from its rows. */
    Iterator<AdapterOutcome> call(int index, int[] models, Iterator<Tuple2<Integer, TrainRow>> rows)
            throws IOException {
        AdapterPlan plan = job.plans().get(index);
        TaskContext ctx = TaskContext.get();
        int attempt = ctx == null ? 0 : ctx.attemptNumber();
        boolean firstAttempt = ctx == null || (attempt == 0 && ctx.stageAttemptNumber() == 0);
        String attemptId = ctx == null ? "local" + java.util.UUID.randomUUID().toString().replace("-", "")
                : ctx.stageId() + "." + ctx.partitionId() + "." + attempt + "." + ctx.taskAttemptId();
        TunedModelStore store = new TunedModelStore(job.outUri(), conf.get());
        Fingerprint fingerprint = job.fingerprintOf(plan);
        if (store.isCommitted(plan.name(), fingerprint)) {
            return outcome(plan, Manifest.Status.EXISTING, null, attempt);
        }
        Instant started = Instant.now();
        TrainSpec spec = job.specOf(plan.name());
        BaseModel shared = base != null ? ExecutorModels.fromBroadcast(base)
                : ExecutorModels.fromPath(job.baseModelUri(), conf);
        BaseModel model = shared.copy(); // (every weight) this task's own, updated in place
        Path checkpoints = new Path(new Path(job.outUri(), AdapterTask.CHECKPOINTS), plan.name());
        PackedData data;
        TrainResult result;
        double baseHeldOut;
        KeyWindows windows = null;
        try {
            windows = KeyWindows.pack(job, spec, "model " + plan.name(), plan,
                    new AdapterBins.Rows<>(rows).of(index));
            data = windows.data();
            AdapterTrainer trainer = AdapterTrainer.fullWeights(spec, model, data)
                    .identifiedBy(fingerprint.combined())
                    .stopWhen(() -> ctx != null && ctx.isInterrupted());
            if (spec.checkpointEvery() > 0 && AdapterTask.checkpoints(spec, trainer.totalSteps())) {
                trainer.checkpointTo(TrainerCheckpoint.at(checkpoints.toUri(), conf.get(), attemptId));
            }
            baseHeldOut = data.heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss(); // before step 1
            Collection<Tensor> weights = model.weights().values(); // the tensors the trainer updates in place
            trainer.onProgress(new ProgressLog(job.progressSeconds())
                    .withHooks(job.hooks(), plan.name(), firstAttempt, weights));
            result = trainer.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            store.fs().delete(checkpoints, true); // every attempt would fail the same way
            return outcome(plan, Manifest.Status.FAILED, e.getMessage(), attempt);
        } finally {
            if (windows != null) {
                windows.close();
            }
        }
        byte[] training = TrainingRecord.toJson(job, plan, spec, windows, baseHeldOut, result, attempt, started,
                fingerprint);
        boolean committed = store.commit(plan.name(), attemptId, model, job.tokenizer(), training, fingerprint);
        store.fs().delete(checkpoints, true); // committed: nothing left to resume
        return outcome(plan, committed ? Manifest.Status.TRAINED : Manifest.Status.EXISTING, null, attempt);
    }

    private static Iterator<AdapterOutcome> outcome(AdapterPlan plan, String status, String reason, int attempt) {
        return List.of(new AdapterOutcome(plan.name(), status, reason, 0, attempt)).iterator();
    }
}
