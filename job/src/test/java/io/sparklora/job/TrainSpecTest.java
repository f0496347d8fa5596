package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparklora.lora.LoraConfig;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class TrainSpecTest {
    private static String error(Consumer<TrainSpec.Builder> change) {
        TrainSpec.Builder b = TrainSpec.lora("ad", LoraConfig.defaults());
        change.accept(b);
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    @Test
    void everyInvalidFieldIsNamedWithItsValue() {
        assertEquals("Invalid steps 0 and epochs 0: exactly one must be > 0", error(b -> b.steps(0)));
        assertEquals("Invalid batchSize 0: must be > 0", error(b -> b.batchSize(0)));
        assertEquals("Invalid seqLen 1: must be >= 2", error(b -> b.seqLen(1)));
        assertEquals("Invalid learningRate 0.0: must be > 0 and finite", error(b -> b.learningRate(0)));
        assertEquals("Invalid warmupSteps -1: must be >= 0", error(b -> b.warmupSteps(-1)));
        assertEquals("Invalid minLrRatio 1.5: must be in [0.0, 1.0]", error(b -> b.minLrRatio(1.5)));
        assertEquals("Invalid weightDecay -0.1: must be >= 0 and finite", error(b -> b.weightDecay(-0.1)));
        assertEquals("Invalid beta2 1.0: must be in [0.0, 1.0)", error(b -> b.betas(0.9, 1.0)));
        assertEquals("Invalid eps 0.0: must be > 0 and finite", error(b -> b.eps(0)));
        assertEquals("Invalid gradClip NaN: must be >= 0 (0 = no clipping)", error(b -> b.gradClip(Double.NaN)));
        assertEquals("Invalid gradAccumulation 0: must be > 0", error(b -> b.gradAccumulation(0)));
        assertEquals("Invalid evalEvery -2: must be >= 0 (0 = at the end)", error(b -> b.evalEvery(-2)));
        assertEquals("Invalid checkpointEvery -1: must be >= 0 (0 = at the end)", error(b -> b.checkpointEvery(-1)));
        assertEquals("Invalid heldOutFraction 1.0: must be in [0.0, 1.0)", error(b -> b.heldOutFraction(1.0)));
    }

    @Test
    void adapterNamesCannotBePathsAndModesNeedTheirConfig() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainSpec.lora("../x", LoraConfig.defaults()).build());
        assertEquals("Invalid adapterName '../x': must be non-empty, made of [A-Za-z0-9._-], and not . or ..",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainSpec.lora("ad", null).build());
        assertEquals("Invalid lora null for adapter ad: LORA mode needs a LoraConfig", e.getMessage());
    }

    @Test
    void epochsSetTheStepCountFromTheTrainingWindows() {
        TrainSpec s = TrainSpec.fullWeights("base").epochs(3).batchSize(4).gradAccumulation(2).build();
        assertEquals(TrainMode.FULL_WEIGHTS, s.mode());
        assertEquals(0, s.steps());
        assertEquals(5, s.totalSteps(13)); // ceil(3·13 / 8)
        assertEquals(1, s.totalSteps(1));
        assertEquals(7, TrainSpec.fullWeights("base").steps(7).build().totalSteps(1000));
        assertEquals(8L * 128, TrainSpec.fullWeights("base").build().tokensPerStep());
    }
}
