package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.job.WindowPacker;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * What one Spark task of the training stage does: partition i holds the rows of adapter i. The task takes the
 * executor's shared base model, packs its rows (in content order, see {@link TrainRow#ORDER}) into windows, trains
 * with checkpoints under {@code <out>/_checkpoints/<name>/} (a retried attempt resumes there), commits the adapter
 * through {@link AdapterStore}, and deletes the checkpoints. Holds only serializable state: the broadcast handle, the
 * job spec and the Hadoop configuration.
 */
public final class AdapterTask implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Checkpoints of unfinished adapters, under the output directory. */
    public static final String CHECKPOINTS = "_checkpoints";
    private final Broadcast<BroadcastModel> base; // null under --base-on-executors
    private final TrainJobSpec job;
    private final HadoopConf conf;

    public AdapterTask(Broadcast<BroadcastModel> base, TrainJobSpec job, HadoopConf conf) {
        this.base = base;
        this.job = job;
        this.conf = conf;
    }

    public Iterator<AdapterOutcome> call(int index, Iterator<Tuple2<Integer, TrainRow>> rows) throws IOException {
        AdapterPlan plan = job.plans().get(index);
        TaskContext ctx = TaskContext.get();
        int attempt = ctx == null ? 0 : ctx.attemptNumber();
        String attemptId = ctx == null ? "local" : ctx.stageId() + "-" + ctx.partitionId() + "-" + attempt + "-"
                + ctx.taskAttemptId();
        AdapterStore store = new AdapterStore(job.outUri(), conf.get());
        if (store.isComplete(plan.name())) { // a speculative copy or an earlier attempt committed it
            return List.of(new AdapterOutcome(plan.name(), false, 0, attempt)).iterator();
        }
        Instant started = Instant.now();
        TrainSpec spec = job.specOf(plan.name());
        Packed packed = pack(job.tokenizer().get(), spec, rows);
        PackedData data = packed.data();
        long tooShort = packed.tooShort();
        BaseModel model = base != null ? ExecutorModels.fromBroadcast(base)
                : ExecutorModels.fromPath(job.baseModelUri(), conf);
        LoraAdapter adapter = LoraAdapter.initialize(spec.lora(), model.config());
        Path checkpoints = new Path(new Path(job.outUri(), CHECKPOINTS), plan.name());
        AdapterTrainer trainer = AdapterTrainer.lora(spec, model, adapter, data)
                .checkpointTo(TrainerCheckpoint.at(checkpoints.toUri(), conf.get()));
        double baseHeldOut = data.heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss(); // B = 0: the base
        ProgressLog log = new ProgressLog(job.progressSeconds());
        trainer.onProgress(report -> {
            log.onStep(report);
            injectFailure(plan.name(), report.step(), attempt);
        });
        TrainResult result = trainer.run();
        byte[] training = TrainingRecord.toJson(job, plan, spec, data, tooShort, baseHeldOut, result, attempt,
                started);
        boolean committed = store.commit(plan.name(), attemptId, adapter, job.baseModelUri(), training);
        store.fs().delete(checkpoints, true);
        return List.of(new AdapterOutcome(plan.name(), committed, result.resumedFromStep(), attempt)).iterator();
    }

    /** An adapter's windows and the number of rows dropped for being shorter than two tokens. */
    record Packed(PackedData data, long tooShort) {
    }

    /**
     * Drops rows shorter than two tokens, orders the rest by content and packs them as {@code spec} says: the same
     * windows and the same held-out split in every attempt, in training and in {@code eval}.
     */
    static Packed pack(Tokenizer tokenizer, TrainSpec spec, Iterator<Tuple2<Integer, TrainRow>> rows) {
        List<TrainRow> usable = new ArrayList<>();
        long tooShort = 0;
        while (rows.hasNext()) {
            TrainRow r = rows.next()._2();
            if (r.trainable(tokenizer)) {
                usable.add(r);
            } else {
                tooShort++;
            }
        }
        usable.sort(TrainRow.ORDER);
        PackedData data = new WindowPacker(tokenizer, spec.seqLen()).pack(spec.adapterName(),
                usable.stream().map(TrainRow::toExample).iterator(), spec.heldOutFraction(), spec.seed());
        return new Packed(data, tooShort);
    }

    /** The test hook of {@link TrainJobSpec#failAtStep}: fails attempt 0 of one adapter after a given step. */
    private void injectFailure(String adapter, int step, int attempt) {
        if (job.failAtStep() == null || attempt != 0) {
            return;
        }
        int colon = job.failAtStep().lastIndexOf(':');
        if (job.failAtStep().substring(0, colon).equals(adapter)
                && Integer.parseInt(job.failAtStep().substring(colon + 1)) == step) {
            throw new IllegalStateException("Injected failure of adapter " + adapter + " after step " + step
                    + " (attempt 0)");
        }
    }
}
