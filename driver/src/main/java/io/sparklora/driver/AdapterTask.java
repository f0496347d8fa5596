package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Fingerprint;
import io.sparklora.job.StepReport;
import io.sparklora.job.TrainProgress;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.job.TrainingStoppedException;
import io.sparklora.job.WindowPacker;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * What one Spark task of the training stage does: partition i holds the rows of adapter i. The task takes the
 * executor's shared base model, packs its rows (in content order, see {@link TrainRow#ORDER}) into windows, trains
 * with checkpoints under {@code <out>/_checkpoints/<name>/} (a retried attempt resumes there; each attempt's
 * temporary files are its own) and commits the adapter through {@link AdapterStore}; the driver deletes the
 * checkpoints after the stage. A deterministic failure of the adapter's own (its rows, a NaN loss) is returned as a
 * {@code failed} outcome instead of failing the task, so the other adapters commit; anything else (I/O, a lost
 * executor, a kill) fails the attempt and Spark retries it. A killed attempt stops before its next step. Holds only serializable state: the broadcast handle, the
 * job spec and the Hadoop configuration.
 */
public final class AdapterTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("io.sparklora.progress");
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
        // A lost executor's shuffle output makes Spark re-run the stage, whose tasks count attempts from 0 again.
        boolean firstAttempt = ctx == null || (attempt == 0 && ctx.stageAttemptNumber() == 0);
        String attemptId = ctx == null ? "local" + java.util.UUID.randomUUID().toString().replace("-", "")
                : ctx.stageId() + "." + ctx.partitionId() + "." + attempt + "." + ctx.taskAttemptId();
        AdapterStore store = new AdapterStore(job.outUri(), conf.get());
        Fingerprint fingerprint = job.fingerprintOf(plan);
        if (store.isCommitted(plan.name(), fingerprint)) { // a speculative copy or an earlier attempt committed it
            return outcome(plan, Manifest.Status.EXISTING, null, 0, attempt);
        }
        Instant started = Instant.now();
        TrainSpec spec = job.specOf(plan.name());
        List<TrainRow> drained = new ArrayList<>(); // a shuffle fetch failure here is transient: Spark retries
        rows.forEachRemaining(t -> drained.add(t._2()));
        BaseModel model = base != null ? ExecutorModels.fromBroadcast(base)
                : ExecutorModels.fromPath(job.baseModelUri(), conf);
        Path checkpoints = new Path(new Path(job.outUri(), CHECKPOINTS), plan.name());
        LoraAdapter adapter;
        Packed packed;
        TrainResult result;
        double baseHeldOut;
        try {
            packed = pack(job.tokenizer().get(), spec, drained.iterator());
            adapter = LoraAdapter.initialize(spec.lora(), model.config());
            AdapterTrainer trainer = AdapterTrainer.lora(spec, model, adapter, packed.data())
                    .checkpointTo(TrainerCheckpoint.at(checkpoints.toUri(), conf.get(), attemptId))
                    .identifiedBy(fingerprint.combined())
                    .stopWhen(() -> ctx != null && ctx.isInterrupted());
            baseHeldOut = packed.data().heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss(); // B = 0: the base
            ProgressLog log = new ProgressLog(job.progressSeconds());
            LoraAdapter trained = adapter;
            trainer.onProgress(new TrainProgress() {
                @Override
                public void onStep(StepReport report) {
                    log.onStep(report);
                    job.hooks().afterStep(plan.name(), report.step(), firstAttempt, trained);
                }

                @Override
                public void onNotice(String message) {
                    log.onNotice(message);
                }
            });
            result = trainer.run();
        } catch (TrainingStoppedException e) {
            // Spark logs a killed task's end without its exception: say here where this attempt stopped.
            LOG.warn("{} (attempt {})", e.getMessage(), attemptId);
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // This adapter's own data or numerics (rows the packer refuses, a NaN loss): every attempt would fail the
            // same way. Report it, leave nothing of it, and let the other adapters commit.
            store.fs().delete(checkpoints, true);
            return outcome(plan, Manifest.Status.FAILED, e.getMessage(), 0, attempt);
        }
        byte[] training = TrainingRecord.toJson(job, plan, spec, packed.data(), packed.tooShort(), baseHeldOut, result,
                attempt, started, fingerprint);
        boolean committed = store.commit(plan.name(), attemptId, adapter, job.baseModelUri(), training, fingerprint);
        return outcome(plan, committed ? Manifest.Status.TRAINED : Manifest.Status.EXISTING, null,
                result.resumedFromStep(), attempt);
    }

    private static Iterator<AdapterOutcome> outcome(AdapterPlan plan, String status, String reason, int resumed,
                                                    int attempt) {
        return List.of(new AdapterOutcome(plan.name(), status, reason, resumed, attempt)).iterator();
    }

    /** An adapter's windows and the number of rows dropped for being shorter than two tokens. */
    record Packed(PackedData data, long tooShort) {
    }

    /**
     * Drops rows that cannot be trained on (shorter than two tokens, an empty completion), orders the rest by content
     * and packs their ids (tokenized once, where the rows were read) as {@code spec} says: the same windows and the
     * same held-out split in every attempt, in training and in {@code eval}.
     */
    static Packed pack(Tokenizer tokenizer, TrainSpec spec, Iterator<TrainRow> rows) {
        List<TrainRow> usable = new ArrayList<>();
        Map<TrainRow, EncodedRow> encoded = new IdentityHashMap<>();
        long tooShort = 0;
        while (rows.hasNext()) {
            TrainRow r = rows.next();
            EncodedRow e = r.encoded(tokenizer); // the ids computed where the row was read, if it carries them
            if (e != null) {
                usable.add(r);
                encoded.put(r, e);
            } else {
                tooShort++;
            }
        }
        usable.sort(TrainRow.ORDER);
        PackedData data = new WindowPacker(tokenizer, spec.seqLen()).packEncoded(spec.adapterName(),
                usable.stream().map(encoded::get).iterator(), spec.heldOutFraction(), spec.seed());
        return new Packed(data, tooShort);
    }
}
