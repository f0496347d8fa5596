package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import java.io.Serializable;
import java.util.List;

/**
 * Everything a training task needs besides its rows and the base model: small, immutable and serializable, built by
 * the driver ({@link SparkTrainJob}) and captured by {@link AdapterTask}. Never holds the parser or the SparkSession.
 *
 * @param template      the training settings; each adapter's spec is this one renamed ({@link #specOf})
 * @param plans         the adapters to train, by partition index
 * @param outUri        the train output ({@code <out>}) as a qualified URI
 * @param baseModelUri  the base model directory, recorded in adapter_config.json and read by executors under
 *                      {@code --base-on-executors}
 * @param baseModelSha256 the base model's directory hash, recorded in training.json
 * @param tokenizer     the tokenizer
 * @param progressSeconds seconds between two progress lines of one adapter
 * @param failAtStep    test hook: {@code <adapter>:<step>} makes attempt 0 of that adapter's task fail after that step;
 *                      null normally
 * @param versions      spark-lora, Spark and Java versions for training.json
 */
public record TrainJobSpec(TrainSpec template, List<AdapterPlan> plans, String outUri, String baseModelUri,
                           String baseModelSha256, TokenizerSpec tokenizer, double progressSeconds, String failAtStep,
                           List<String> versions) implements Serializable {
    private static final long serialVersionUID = 1L;

    public TrainJobSpec {
        plans = List.copyOf(plans);
        versions = List.copyOf(versions);
    }

    /** The template under the adapter's name. */
    public TrainSpec specOf(String name) {
        TrainSpec t = template;
        return new TrainSpec(name, t.mode(), t.lora(), t.steps(), t.epochs(), t.batchSize(), t.seqLen(),
                t.learningRate(), t.warmupSteps(), t.minLrRatio(), t.weightDecay(), t.beta1(), t.beta2(), t.eps(),
                t.gradClip(), t.gradAccumulation(), t.evalEvery(), t.checkpointEvery(), t.heldOutFraction(), t.seed());
    }
}
