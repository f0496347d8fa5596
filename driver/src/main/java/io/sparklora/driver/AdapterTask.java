package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Fingerprint;
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
 * What one Spark task of the training stage does: it trains the adapters of its bin ({@link AdapterBins}), whose rows
 * arrive sorted by adapter and content ({@link TrainRow#ORDER}). For each it takes the executor's shared base model,
 * packs the rows into windows as they stream in ({@link KeyWindows}: in the heap, or into a spill file), trains
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

    /**
     * Trains the adapters of one bin ({@link AdapterBins}), their rows sorted by adapter index: one after another, or
     * with {@code adaptersPerTask > 1} in groups of up to that many consecutive ones, each trained fused
     * ({@link FusedGroup}); a killed task stops before its next adapter or group (and the trainer before its next
     * step).
     */
    public Iterator<AdapterOutcome> trainBin(int[] adapters, Iterator<Tuple2<Integer, TrainRow>> rows,
                                             int adaptersPerTask) throws IOException {
        AdapterBins.Rows<TrainRow> byAdapter = new AdapterBins.Rows<>(rows);
        TaskContext ctx = TaskContext.get();
        List<AdapterOutcome> out = new ArrayList<>(adapters.length);
        for (int g = 0; g < adapters.length; g += adaptersPerTask) {
            if (ctx != null && ctx.isInterrupted()) {
                throw new org.apache.spark.TaskKilledException("killed before adapter "
                        + job.plans().get(adapters[g]).name());
            }
            int[] group = java.util.Arrays.copyOfRange(adapters, g, Math.min(adapters.length, g + adaptersPerTask));
            if (group.length == 1) {
                out.add(train(job.plans().get(group[0]), byAdapter.of(group[0])));
            } else {
                out.addAll(new FusedGroup(this).train(group, byAdapter));
            }
        }
        return out.iterator();
    }

    /**
     * Trains and commits one adapter from its rows, which arrive in content order ({@link TrainRow#ORDER}); its
     * outcome carries its manifest entry once committed. An adapter of more rows than the job's spill threshold
     * ({@link TrainJobSpec#spillRows}) is packed as its rows arrive into a window file on the executor's local disk,
     * read in every pass and deleted at the end; the windows, their split and so the adapter are the same bytes.
     */
    AdapterOutcome train(AdapterPlan plan, Iterator<TrainRow> rows) throws IOException {
        Attempt attempt = Attempt.current();
        AdapterStore store = store();
        if (store.isCommitted(plan.name(), job.fingerprintOf(plan))) { // a speculative copy or an earlier attempt
            return committed(store, plan, Manifest.Status.EXISTING, 0, attempt.number());
        }
        return trainAlone(plan, rows, store, attempt);
    }

    /** This task's attempt: its number, whether it is the stage's first try, and the id of its temporary files. */
    record Attempt(int number, boolean first, String id) {
        static Attempt current() {
            TaskContext ctx = TaskContext.get();
            int attempt = ctx == null ? 0 : ctx.attemptNumber();
            // A lost executor's shuffle output makes Spark re-run the stage, whose tasks count attempts from 0 again.
            boolean first = ctx == null || (attempt == 0 && ctx.stageAttemptNumber() == 0);
            String id = ctx == null ? "local" + java.util.UUID.randomUUID().toString().replace("-", "")
                    : ctx.stageId() + "." + ctx.partitionId() + "." + attempt + "." + ctx.taskAttemptId();
            return new Attempt(attempt, first, id);
        }
    }

    TrainJobSpec job() {
        return job;
    }

    AdapterStore store() throws IOException {
        return new AdapterStore(job.outUri(), conf.get());
    }

    /** The executor's shared base model. */
    BaseModel baseModel() throws IOException {
        return base != null ? ExecutorModels.fromBroadcast(base) : ExecutorModels.fromPath(job.baseModelUri(), conf);
    }

    /** Where {@code plan}'s checkpoints go: {@code <out>/_checkpoints/<name>}. */
    Path checkpointDir(AdapterPlan plan) {
        return new Path(new Path(job.outUri(), CHECKPOINTS), plan.name());
    }

    /** {@code plan}'s checkpoints as the task attempt {@code attemptId} writes them (its own temporary files). */
    TrainerCheckpoint checkpointStore(AdapterPlan plan, String attemptId) throws IOException {
        return TrainerCheckpoint.at(checkpointDir(plan).toUri(), conf.get(), attemptId);
    }

    /** Whether {@code plan}'s windows are packed into a spill file as its rows stream in, not held in the heap. */
    boolean spills(AdapterPlan plan) {
        return KeyWindows.spills(job, plan, KeyWindows.heapBudget());
    }

    /** Trains one adapter not yet committed from its rows (in content order), and commits it. */
    AdapterOutcome trainAlone(AdapterPlan plan, Iterator<TrainRow> rows, AdapterStore store, Attempt at)
            throws IOException {
        TaskContext ctx = TaskContext.get();
        int attempt = at.number();
        boolean firstAttempt = at.first();
        String attemptId = at.id();
        Fingerprint fingerprint = job.fingerprintOf(plan);
        Instant started = Instant.now();
        TrainSpec spec = job.specOf(plan.name());
        BaseModel model = baseModel();
        Path checkpoints = checkpointDir(plan);
        LoraAdapter adapter;
        PackedData data;
        TrainResult result;
        double baseHeldOut;
        KeyWindows windows = null;
        try {
            windows = KeyWindows.pack(job, spec, "adapter " + plan.name(), plan, rows);
            data = windows.data();
            adapter = LoraAdapter.initialize(spec.lora(), model.config());
            AdapterTrainer trainer = AdapterTrainer.lora(spec, model, adapter, data)
                    .identifiedBy(fingerprint.combined())
                    .stopWhen(() -> ctx != null && ctx.isInterrupted());
            if (checkpoints(spec, trainer.totalSteps())) {
                trainer.checkpointTo(checkpointStore(plan, attemptId));
            }
            baseHeldOut = data.heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss(); // B = 0: the base
            List<io.sparklora.tensor.Tensor> trained = TestHooks.weightsOf(adapter);
            trainer.onProgress(new ProgressLog(job.progressSeconds())
                    .withHooks(job.hooks(), plan.name(), firstAttempt, trained));
            result = trainer.run();
        } catch (TrainingStoppedException e) {
            // Spark logs a killed task's end without its exception: say here where this attempt stopped.
            LOG.warn("{} (attempt {})", e.getMessage(), attemptId);
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // This adapter's own data or numerics (rows the packer refuses, a NaN loss): every attempt would fail the
            // same way. Report it, leave nothing of it, and let the other adapters commit.
            store.fs().delete(checkpoints, true);
            return new AdapterOutcome(plan.name(), Manifest.Status.FAILED, e.getMessage(), 0, attempt);
        } finally {
            if (windows != null) {
                windows.close();
            }
        }
        byte[] training = TrainingRecord.toJson(job, plan, spec, windows, baseHeldOut, result, attempt, started,
                fingerprint);
        boolean committed = store.commit(plan.name(), attemptId, adapter, job.baseModelUri(), training, fingerprint);
        return committed(store, plan, committed ? Manifest.Status.TRAINED : Manifest.Status.EXISTING,
                result.resumedFromStep(), attempt);
    }

    /** The outcome of a committed adapter, with its manifest entry read back from its marker and training.json. */
    static AdapterOutcome committed(AdapterStore store, AdapterPlan plan, String status, int resumed,
                                    int attempt) throws IOException {
        AdapterOutcome o = new AdapterOutcome(plan.name(), status, null, resumed, attempt);
        o.entry = CommittedEntry.toText(CommittedEntry.read(store, plan.name()));
        return o;
    }

    /**
     * False when the adapter ends before its first periodic checkpoint ({@code --checkpoint-every} above its steps):
     * then its only checkpoint would be the one at the end, written and deleted again around the commit, which for
     * thousands of short adapters costs more than their training; a retried attempt retrains those few steps.
     */
    static boolean checkpoints(TrainSpec spec, int totalSteps) {
        return spec.checkpointEvery() <= 0 || totalSteps >= spec.checkpointEvery();
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
