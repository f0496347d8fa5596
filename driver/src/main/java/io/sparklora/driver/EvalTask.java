package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.BaseModel;
import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import scala.Tuple2;

/**
 * One task of {@code eval}: partition i holds the rows of data partition i, sorted by content as {@code train}'s
 * stage sorts them ({@link AdapterBins#sorted}), and packs them as they arrive exactly as {@code train} packed them
 * (same windows and held-out split, {@link KeyWindows}): in the heap, or for a partition over {@code spillRows} (or
 * its heap share) into a spill file read once per adapter; returns the mean held-out loss of every adapter and, after
 * them, of the base (an adapter whose B is zero, which computes exactly the base).
 */
final class EvalTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final org.apache.spark.broadcast.Broadcast<BroadcastModel> base;
    private final TrainSpec template; // seq, batch, held-out fraction and seed of the train job
    private final List<AdapterPlan> partitions;
    private final List<String> adapterDirs;
    private final EvalPairs pairs;
    private final TokenizerSpec tokenizer;
    private final HadoopConf conf;
    private final long spillRows; // a partition of more rows packs its windows into a spill file

    EvalTask(org.apache.spark.broadcast.Broadcast<BroadcastModel> base, TrainSpec template,
             List<AdapterPlan> partitions, List<String> adapterDirs, EvalPairs pairs, TokenizerSpec tokenizer,
             HadoopConf conf, long spillRows) {
        this.base = base;
        this.template = template;
        this.partitions = List.copyOf(partitions);
        this.adapterDirs = List.copyOf(adapterDirs);
        this.pairs = pairs;
        this.tokenizer = tokenizer;
        this.conf = conf;
        this.spillRows = spillRows;
    }

    /**
     * {loss of each adapter {@link EvalPairs#adaptersFor} this partition..., base loss, held-out windows, 1 when the
     * windows were in a spill file else 0}; NaN losses when the partition has no held-out window. {@code rows} are the
     * partition's (index, row) pairs in content order.
     */
    Iterator<double[]> call(int index, Iterator<Tuple2<Integer, TrainRow>> rows) throws IOException {
        BaseModel model = ExecutorModels.fromBroadcast(base);
        AdapterPlan partition = partitions.get(index);
        TrainSpec spec = TrainJobSpecs.named(template, partition.name());
        try (KeyWindows windows = KeyWindows.pack(tokenizer, spillRows, spec, "partition " + partition.name(),
                partition, new AdapterBins.Rows<>(rows).of(index))) {
            PackedData data = windows.data();
            int[] scored = pairs.adaptersFor(index);
            double[] out = new double[scored.length + 3];
            out[scored.length + 1] = data.heldOut().size();
            out[scored.length + 2] = windows.windowsIn().equals(KeyWindows.SPILL_FILE) ? 1 : 0;
            for (int i = 0; i <= scored.length; i++) {
                if (data.heldOut().isEmpty()) {
                    out[i] = Double.NaN;
                    continue;
                }
                LoraAdapter adapter = i < scored.length ? AdapterFiles.read(adapterDirs.get(scored[i]), conf.get(),
                        model.config()) : LoraAdapter.initialize(LoraConfig.defaults()
                        .withTargetModules(LoraConfig.defaultTargets(model.config())), model.config()); // B = 0
                TrainSpec s = TrainJobSpecs.withLora(spec, adapter.config());
                out[i] = AdapterTrainer.lora(s, model, adapter, data).heldOutLoss();
            }
            return List.of(out).iterator();
        }
    }
}
