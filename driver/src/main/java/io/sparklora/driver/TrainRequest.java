package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;
import java.util.List;

/**
 * The resolved {@code train} command line: what {@link SparkTrainJob} runs. Built by the CLI; validated here and in
 * {@link DataOptions} and {@link TrainSpec}.
 *
 * @param model            base model directory URI
 * @param data             how to read and split the data
 * @param out              output directory URI
 * @param lora             the LoRA settings; its targets are replaced by the family's defaults when {@code targets}
 *                         is null
 * @param targets          target module names or {@code all-linear}, or null for the family's default
 * @param template         the training settings (its name is replaced per adapter)
 * @param baseOnExecutors  executors read the base model from {@code model} instead of a broadcast
 * @param progressSeconds  seconds between progress lines of one adapter
 * @param existing         what to do with committed adapters of another fingerprint
 * @param spillRows        an adapter of more rows packs its windows into a local file instead of the heap
 *                         ({@link TrainJobSpec#spillRows})
 * @param adaptersPerTask  {@code --adapters-per-task}: adapters of one task trained fused, in groups of at most this
 *                         many (1: one after another); null: the planner's default
 *                         ({@link SparkTrainJob#defaultAdaptersPerTask})
 */
public record TrainRequest(String model, DataOptions data, String out, LoraConfig lora, List<String> targets,
                           TrainSpec template, boolean baseOnExecutors, double progressSeconds,
                           ExistingPolicy existing, long spillRows, Integer adaptersPerTask) {
    public TrainRequest {
        if (adaptersPerTask != null && adaptersPerTask < 1) {
            throw new IllegalArgumentException("Invalid --adapters-per-task " + adaptersPerTask
                    + ": must be at least 1 (1 trains a task's adapters one after another)");
        }
        if (model == null || out == null) {
            throw new IllegalArgumentException("Invalid train request: --model and --out are required");
        }
        if (existing == null) {
            existing = ExistingPolicy.RETRAIN;
        }
    }
}
