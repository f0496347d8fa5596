package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.Fingerprint;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.TrainerCheckpoint;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraMerge;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * One Spark task of a tree level: partition i holds the rows of node i, key by key (each key a slot of the stage,
 * {@link SparkTreeJob}), each key's in content order. The node's
 * ancestors (committed by earlier levels) are merged into a task-local copy of the weights they adapt — the other
 * tensors stay the executor's shared base — and the node's own LoRA trains over that copy, so the ancestors are
 * frozen: W' = W + Σ sₐBₐAₐ, then y = W'x + s·B·A·x, the same function as the ancestors applied as frozen deltas.
 * Merging costs one copy of the adapted matrices per task (for q_proj/v_proj a small part of the base) and leaves
 * the forward pass untouched.
 *
 * <p>Each key's rows are packed and split on their own as they stream in ({@link KeyWindows}: the split a flat adapter
 * of that key holds out; over {@code --spill-rows} into a spill file), and the node trains on the union of its keys'
 * training windows and is evaluated on the union of their held-out windows, so no node ever trains on a window another
 * node holds out. Holds only serializable state.
 */
final class TreeTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<BroadcastModel> base; // null under --base-on-executors
    private final TrainJobSpec job; // plans by partition index
    private final Map<String, List<String>> ancestors; // node -> its ancestors, root first
    private final HadoopConf conf;

    TreeTask(Broadcast<BroadcastModel> base, TrainJobSpec job, Map<String, List<String>> ancestors,
             HadoopConf conf) {
        this.base = base;
        this.job = job;
        this.ancestors = new LinkedHashMap<>(ancestors);
        this.conf = conf;
    }

    /** The same task for the nodes of one level ({@code stage}'s plans). */
    TreeTask forStage(TrainJobSpec stage) {
        return new TreeTask(base, stage, ancestors, conf);
    }

    /**
     * Trains node {@code index} from its rows: those of each of its keys in turn (slot by slot, {@code slots} in key
     * order), each key's in content order. A node of more rows than {@code --spill-rows} streams each key's windows
     * into a spill file of its own ({@link KeyWindows}).
     */
    Iterator<AdapterOutcome> call(int index, int[] slots, Iterator<Tuple2<Integer, TrainRow>> rows)
            throws IOException {
        AdapterPlan plan = job.plans().get(index);
        TaskContext ctx = TaskContext.get();
        int attempt = ctx == null ? 0 : ctx.attemptNumber();
        String attemptId = ctx == null ? "local" + java.util.UUID.randomUUID().toString().replace("-", "")
                : ctx.stageId() + "." + ctx.partitionId() + "." + attempt + "." + ctx.taskAttemptId();
        AdapterStore store = new AdapterStore(job.outUri(), conf.get());
        Fingerprint fingerprint = job.fingerprintOf(plan);
        if (store.isCommitted(plan.name(), fingerprint)) {
            return outcome(plan, Manifest.Status.EXISTING, null, 0, attempt);
        }
        Instant started = Instant.now();
        TrainSpec spec = job.specOf(plan.name());
        BaseModel shared = base != null ? ExecutorModels.fromBroadcast(base)
                : ExecutorModels.fromPath(job.baseModelUri(), conf);
        BaseModel model = withAncestors(shared, store, conf.get(), ancestors.get(plan.name()));
        Path checkpoints = new Path(new Path(job.outUri(), AdapterTask.CHECKPOINTS), plan.name());
        LoraAdapter adapter;
        PackedData data;
        TrainResult result;
        double parentHeldOut;
        KeyWindows windows = null;
        try {
            windows = packPerKey(job, spec, plan, slots, new AdapterBins.Rows<>(rows));
            data = windows.data();
            adapter = LoraAdapter.initialize(spec.lora(), model.config());
            AdapterTrainer trainer = AdapterTrainer.lora(spec, model, adapter, data)
                    .checkpointTo(TrainerCheckpoint.at(checkpoints.toUri(), conf.get(), attemptId))
                    .identifiedBy(fingerprint.combined())
                    .stopWhen(() -> ctx != null && ctx.isInterrupted())
                    .onProgress(new ProgressLog(job.progressSeconds()));
            // B = 0: the ancestors alone (the parent's path) on this node's held-out windows
            parentHeldOut = data.heldOut().isEmpty() ? Double.NaN : trainer.heldOutLoss();
            result = trainer.run();
        } catch (IllegalArgumentException | IllegalStateException e) { // this node's data or numerics: deterministic
            store.fs().delete(checkpoints, true);
            return outcome(plan, Manifest.Status.FAILED, e.getMessage(), 0, attempt);
        } finally {
            if (windows != null) {
                windows.close();
            }
        }
        byte[] training = TrainingRecord.toJson(job, plan, spec, windows, parentHeldOut, result, attempt, started,
                fingerprint);
        boolean committed = store.commit(plan.name(), attemptId, adapter, job.baseModelUri(), training, fingerprint);
        return outcome(plan, committed ? Manifest.Status.TRAINED : Manifest.Status.EXISTING, null,
                result.resumedFromStep(), attempt);
    }

    /** {@code base} with the committed adapters of {@code names} (root first) merged in; see {@link #merged}. */
    static BaseModel withAncestors(BaseModel base, AdapterStore store, org.apache.hadoop.conf.Configuration conf,
                                   List<String> names) throws IOException {
        List<LoraAdapter> adapters = new ArrayList<>();
        for (String name : names) {
            adapters.add(AdapterFiles.read(store.dir(name).toString(), conf, base.config()));
        }
        return merged(base, adapters);
    }

    /**
     * {@code base} with {@code adapters} merged into copies of the matrices they adapt (the other tensors shared,
     * never written); {@code base} itself when there are none.
     */
    static BaseModel merged(BaseModel base, List<LoraAdapter> adapters) {
        if (adapters.isEmpty()) {
            return base;
        }
        Map<String, Tensor> weights = new LinkedHashMap<>(base.weights());
        for (LoraAdapter a : adapters) {
            for (LoraModule m : a.modules().values()) {
                String key = m.target().weightKey();
                if (weights.get(key) == base.weight(key)) {
                    weights.put(key, base.weight(key).copy());
                }
            }
        }
        BaseModel merged = new BaseModel(base.config(), weights);
        adapters.forEach(a -> LoraMerge.merge(merged, a));
        return merged;
    }

    /**
     * Each key packed and split alone (slot by slot, in key order: the split a flat adapter of that key holds out),
     * then the training and held-out windows put together ({@link KeyWindows#join}).
     */
    static KeyWindows packPerKey(TrainJobSpec job, TrainSpec spec, AdapterPlan node, int[] slots,
                                 AdapterBins.Rows<TrainRow> rows) throws IOException {
        if (slots.length == 0) {
            throw new IllegalArgumentException("Cannot train node " + node.name() + ": no rows reached it");
        }
        List<KeyWindows> parts = new ArrayList<>();
        try {
            for (int k = 0; k < slots.length; k++) {
                parts.add(KeyWindows.pack(job, spec, "node " + node.name() + " (key " + (k + 1) + " of "
                        + slots.length + ")", node, rows.of(slots[k])));
            }
        } catch (IOException | RuntimeException e) {
            for (KeyWindows p : parts) {
                p.close();
            }
            throw e;
        }
        return KeyWindows.join(parts);
    }

    private static Iterator<AdapterOutcome> outcome(AdapterPlan plan, String status, String reason, int resumed,
                                                    int attempt) {
        return List.of(new AdapterOutcome(plan.name(), status, reason, resumed, attempt)).iterator();
    }
}
