package io.sparklora.driver;

import io.sparklora.job.Fingerprint;
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
 * @param hooks         fault-injection hooks for tests ({@link TestHooks#NONE} normally)
 * @param versions      spark-lora, Spark and Java versions for training.json
 * @param spillRows     an adapter of more rows than this packs its windows into a file on the executor's local disk
 *                      instead of the heap ({@code --spill-rows}; {@link #DEFAULT_SPILL_ROWS} normally); so does one
 *                      whose windows exceed the task's share of the heap ({@link KeyWindows#spills})
 */
public record TrainJobSpec(TrainSpec template, List<AdapterPlan> plans, String outUri, String baseModelUri,
                           String baseModelSha256, TokenizerSpec tokenizer, double progressSeconds, TestHooks hooks,
                           List<String> versions, long spillRows) implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Rows above which an adapter's windows are spilled to disk: far above the demo's and small jobs' keys. */
    public static final long DEFAULT_SPILL_ROWS = 1_000_000;

    public TrainJobSpec {
        if (spillRows < 1) {
            throw new IllegalArgumentException("Invalid --spill-rows " + spillRows + ": must be >= 1");
        }
        plans = List.copyOf(plans);
        versions = List.copyOf(versions);
    }

    /** The fingerprint of the adapter {@code plan}: this job's base and settings, the plan's data digest. */
    public Fingerprint fingerprintOf(AdapterPlan plan) {
        return new Fingerprint(baseModelSha256, Fingerprint.settingsOf(template, tokenizer.digest()), plan.dataDigest());
    }

    /** The template under the adapter's name. */
    public TrainSpec specOf(String name) {
        return TrainJobSpecs.named(template, name);
    }
}
