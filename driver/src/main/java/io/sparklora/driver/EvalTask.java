package io.sparklora.driver;

import io.sparklora.job.AdapterTrainer;
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
 * One task of {@code eval}: partition i holds the rows of data partition i, packed exactly as {@code train} packed
 * them (same order, windows and held-out split); returns the mean held-out loss of every adapter and, last, of the
 * base (an adapter whose B is zero, which computes exactly the base).
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

    EvalTask(org.apache.spark.broadcast.Broadcast<BroadcastModel> base, TrainSpec template,
             List<AdapterPlan> partitions, List<String> adapterDirs, EvalPairs pairs, TokenizerSpec tokenizer,
             HadoopConf conf) {
        this.base = base;
        this.template = template;
        this.partitions = List.copyOf(partitions);
        this.adapterDirs = List.copyOf(adapterDirs);
        this.pairs = pairs;
        this.tokenizer = tokenizer;
        this.conf = conf;
    }

    /**
     * {loss of each adapter {@link EvalPairs#adaptersFor} this partition..., base loss, held-out windows}; NaN losses
     * when the partition has no held-out window.
     */
    Iterator<double[]> call(int index, Iterator<Tuple2<Integer, TrainRow>> rows) throws IOException {
        BaseModel model = ExecutorModels.fromBroadcast(base);
        TrainSpec spec = TrainJobSpecs.named(template, partitions.get(index).name());
        List<TrainRow> own = new java.util.ArrayList<>();
        rows.forEachRemaining(t -> own.add(t._2()));
        AdapterTask.Packed packed = AdapterTask.pack(tokenizer.get(), spec, own.iterator());
        int[] scored = pairs.adaptersFor(index);
        double[] out = new double[scored.length + 2];
        out[out.length - 1] = packed.data().heldOut().size();
        for (int i = 0; i <= scored.length; i++) {
            if (packed.data().heldOut().isEmpty()) {
                out[i] = Double.NaN;
                continue;
            }
            LoraAdapter adapter = i < scored.length ? AdapterFiles.read(adapterDirs.get(scored[i]), conf.get(),
                    model.config()) : LoraAdapter.initialize(LoraConfig.defaults()
                    .withTargetModules(LoraConfig.defaultTargets(model.config())), model.config()); // B = 0
            TrainSpec s = TrainJobSpecs.withLora(spec, adapter.config());
            out[i] = AdapterTrainer.lora(s, model, adapter, packed.data()).heldOutLoss();
        }
        return List.of(out).iterator();
    }
}
