package io.sparklora.driver;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparklora.job.LossPoint;
import io.sparklora.job.PackedData;
import io.sparklora.job.TrainResult;
import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * {@code adapters/<name>/training.json}: the provenance of one adapter (config, seed, base model hash, versions), its
 * data (rows, skipped rows, windows), its loss history and its timings — enough to reproduce and to plot it.
 */
public final class TrainingRecord {
    public static final int FORMAT_VERSION = TrainingFile.FORMAT_VERSION;
    static final ObjectMapper JSON = new ObjectMapper();

    private TrainingRecord() {
    }

    /**
     * The record of an adapter (or a {@code --full} model, a tree node) trained from {@code windows}: its data's counts
     * and where the task kept the windows ({@link KeyWindows#windowsIn}).
     */
    static byte[] toJson(TrainJobSpec job, AdapterPlan plan, TrainSpec spec, KeyWindows windows,
                         double baseHeldOutLoss, TrainResult result, int attempt, Instant started,
                         io.sparklora.job.Fingerprint fingerprint) throws IOException {
        return toJson(job, plan, spec, windows.packed(), windows.windowsIn(), baseHeldOutLoss, result, attempt,
                started, fingerprint, List.of());
    }

    /**
     * The record of an adapter trained fused ({@code --adapters-per-task}): {@code fusedWith} names the other adapters
     * of its fused run, written as {@code fused_with} when not empty. {@code windowsIn}: where the task kept the
     * windows, {@value KeyWindows#MEMORY} or {@value KeyWindows#SPILL_FILE}.
     */
    static byte[] toJson(TrainJobSpec job, AdapterPlan plan, TrainSpec spec, AdapterTask.Packed packed,
                         String windowsIn, double baseHeldOutLoss, TrainResult result, int attempt, Instant started,
                         io.sparklora.job.Fingerprint fingerprint, List<String> fusedWith) throws IOException {
        LoraConfig lora = spec.lora();
        PackedData data = packed.data();
        return TrainingFile.adapter(plan.name(), plan.key(), new TrainingFile.Versions(job.versions().get(0),
                        job.versions().get(1), job.versions().get(2)),
                new TrainingFile.BaseModel(job.baseModelUri(), job.baseModelSha256(), job.tokenizer().describe()),
                Manifest.fingerprint(fingerprint), spec.seed(), spec(spec, spec.checkpointEvery()),
                spec.mode().name().toLowerCase(java.util.Locale.ROOT), // lora, or full_weights (train --full)
                trainableParams(result), lora == null ? null : new TrainingFile.Lora(lora.rank(), lora.alpha(),
                        lora.dropout(), lora.targetModules(), lora.useRslora(), lora.seed()),
                new TrainingFile.Data(data.rows(), packed.tooShort(), data.tokens(), data.targetTokens(),
                        data.train().size(), data.heldOut().size(), windowsIn), fusedWith, result.steps(), result.resumedFromStep(),
                attempt, result.finalTrainLoss(), result.finalHeldOutLoss(), baseHeldOutLoss,
                history(result.trainHistory()), history(result.heldOutHistory()), timings(result),
                started.toString(), Instant.now().toString()).toJson();
    }

    /**
     * The elements of the tensors the run trained: for LoRA every A (rank×in) and B (out×rank), so the sum of
     * rank·(in + out) over the adapted modules as {@code plane.json} counts them
     * ({@link SweepGrid#trainableParameters}); for {@code train --full} every weight of the model.
     */
    static long trainableParams(TrainResult result) {
        long n = 0;
        for (io.sparklora.tensor.Tensor t : result.parameters().values()) {
            n += t.size();
        }
        return n;
    }

    /**
     * The training settings as training.json records them; {@code checkpointEvery} null leaves it out (pretrain has
     * no checkpoints).
     */
    public static TrainingFile.Spec spec(TrainSpec s, Integer checkpointEvery) {
        return new TrainingFile.Spec(s.steps(), s.epochs(), s.batchSize(), s.seqLen(), s.learningRate(),
                s.warmupSteps(), s.minLrRatio(), s.weightDecay(), s.gradClip(), s.gradAccumulation(), s.evalEvery(),
                checkpointEvery, s.heldOutFraction());
    }

    /** A loss history as training.json records it: [step, loss, learning rate]. */
    public static List<TrainingFile.Point> history(List<LossPoint> points) {
        List<TrainingFile.Point> out = new java.util.ArrayList<>(points.size());
        for (LossPoint p : points) {
            out.add(new TrainingFile.Point(p.step(), p.loss(), p.learningRate()));
        }
        return out;
    }

    /** The run's timings and throughput as training.json records them. */
    public static TrainingFile.Timings timings(TrainResult r) {
        return new TrainingFile.Timings(r.timings().trainSeconds(), r.timings().evalSeconds(),
                r.timings().checkpointSeconds(), r.timings().totalSeconds(), r.tokensPerSecond());
    }

    /** Parses a training.json (see {@link TrainingFile#read}). */
    static TrainingFile read(byte[] bytes, String where) throws IOException {
        return TrainingFile.read(bytes, where);
    }
}
