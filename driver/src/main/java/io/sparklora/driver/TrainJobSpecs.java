package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraConfig;

/** TrainSpec copies with one field changed (TrainSpec is a record without withers). */
final class TrainJobSpecs {
    private TrainJobSpecs() {
    }

    static TrainSpec named(TrainSpec t, String name) {
        return new TrainSpec(name, t.mode(), t.lora(), t.steps(), t.epochs(), t.batchSize(), t.seqLen(),
                t.learningRate(), t.warmupSteps(), t.minLrRatio(), t.weightDecay(), t.beta1(), t.beta2(), t.eps(),
                t.gradClip(), t.gradAccumulation(), t.evalEvery(), t.checkpointEvery(), t.heldOutFraction(), t.seed());
    }

    static TrainSpec withLora(TrainSpec t, LoraConfig lora) {
        return new TrainSpec(t.adapterName(), t.mode(), lora, t.steps(), t.epochs(), t.batchSize(), t.seqLen(),
                t.learningRate(), t.warmupSteps(), t.minLrRatio(), t.weightDecay(), t.beta1(), t.beta2(), t.eps(),
                t.gradClip(), t.gradAccumulation(), t.evalEvery(), t.checkpointEvery(), t.heldOutFraction(), t.seed());
    }
}
