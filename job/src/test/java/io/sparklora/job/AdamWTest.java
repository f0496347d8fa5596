package io.sparklora.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdamWTest {
    @Test
    void firstStepMatchesTheHandComputedUpdate() {
        // w = [1, -2], g = [0.5, -0.1]; lr 0.1, β = (0.9, 0.999), ε 1e-8, λ 0.01, gradient scale 2.
        // g' = [1, -0.2]; m = 0.1 g' = [0.1, -0.02]; v = 0.001 g'² = [0.001, 0.00004].
        // m̂ = m / 0.1 = g'; √v̂ = √(v / 0.001) = |g'|; so the Adam step is lr · sign(g') (up to ε):
        // w ← w (1 − 0.1·0.01) − 0.1 · g' / (|g'| + 1e-8) = [0.999 − 0.1, −1.998 + 0.1] = [0.899, −1.898].
        Parameter p = new Parameter("w", Tensor.of(new float[] {1f, -2f}, 1, 2),
                Tensor.of(new float[] {0.5f, -0.1f}, 1, 2));
        AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0.01);
        opt.step(0.1, 2.0);
        assertArrayEquals(new float[] {0.899f, -1.898f}, p.value().toArray(), 1e-6f);
        assertArrayEquals(new float[] {0.1f, -0.02f}, opt.firstMoment(0).toArray(), 1e-7f);
        assertArrayEquals(new float[] {0.001f, 0.00004f}, opt.secondMoment(0).toArray(), 1e-9f);
        assertArrayEquals(new float[] {0f, 0f}, p.grad().toArray(), "gradients are zeroed for the next step");
        assertEquals(1, opt.stepCount());
    }

    @Test
    void secondStepUsesBiasCorrectionOfStepTwo() {
        Parameter p = new Parameter("w", Tensor.of(new float[] {0f}, 1, 1), Tensor.of(new float[] {1f}, 1, 1));
        AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0);
        opt.step(0.1, 1.0); // w = -0.1 (up to ε)
        p.grad().set(0, -1f);
        opt.step(0.1, 1.0);
        // m = 0.9·0.1 − 0.1 = −0.01, v = 0.999·0.001 + 0.001 = 0.001999
        // m̂ = −0.01 / 0.19 = −0.0526316, v̂ = 0.001999 / 0.001999 = 1 → step −0.1 · (−0.0526316) / (1 + 1e-8)
        double expected = -0.1 * (1 / (1 + 1e-8)) + 0.1 * (0.01 / 0.19) / (Math.sqrt(0.001999 / (1 - 0.999 * 0.999)) + 1e-8);
        assertEquals(expected, p.value().get(0), 1e-6);
    }

    @Test
    void weightDecaySkipsOneDimensionalTensors() {
        Parameter bias = new Parameter("b", Tensor.of(new float[] {1f}, 1), Tensor.zeros(1));
        Parameter matrix = new Parameter("w", Tensor.of(new float[] {1f}, 1, 1), Tensor.zeros(1, 1));
        new AdamW(List.of(bias, matrix), 0.9, 0.999, 1e-8, 0.5).step(0.1, 1.0);
        assertEquals(1f, bias.value().get(0)); // zero gradient and no decay: unchanged
        assertEquals(0.95f, matrix.value().get(0), 1e-7f); // 1 · (1 − 0.1·0.5)
    }

    @Test
    void globalNormAndClipFactor() {
        Parameter a = new Parameter("a", Tensor.zeros(2), Tensor.of(new float[] {3f, 0f}, 2));
        Parameter b = new Parameter("b", Tensor.zeros(1, 1), Tensor.of(new float[] {4f}, 1, 1));
        double norm = AdamW.gradNorm(List.of(a, b));
        assertEquals(5.0, norm, 1e-12);
        assertEquals(1.0 / (5.0 + 1e-6), AdamW.clipFactor(norm, 1.0), 1e-15);
        assertEquals(1.0, AdamW.clipFactor(norm, 10.0));
        assertEquals(1.0, AdamW.clipFactor(norm, 0.0), "0 means no clipping");
    }

    @Test
    void clippedUpdateHasTheSameDirectionAndAdamScaleInvariance() {
        // Adam's first step is lr·sign(g) whatever the gradient scale, so clipping must not change it...
        Parameter p = new Parameter("w", Tensor.of(new float[] {0f, 0f}, 1, 2), Tensor.of(new float[] {30f, -40f}, 1, 2));
        double scale = AdamW.clipFactor(AdamW.gradNorm(List.of(p)), 1.0);
        assertEquals(1.0 / 50, scale, 1e-8);
        AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0);
        opt.step(0.1, scale);
        assertArrayEquals(new float[] {-0.1f, 0.1f}, p.value().toArray(), 1e-6f);
        // ...but the moments hold the clipped gradient: m = 0.1 · [0.6, −0.8].
        assertArrayEquals(new float[] {0.06f, -0.08f}, opt.firstMoment(0).toArray(), 1e-7f);
    }

    @Test
    void scheduleWarmsUpLinearlyThenFollowsTheCosineToTheFloor() {
        LrSchedule s = new LrSchedule(1e-3, 10, 110, 0.1);
        assertEquals(1e-4, s.at(0), 1e-15);
        assertEquals(5e-4, s.at(4), 1e-15);
        assertEquals(1e-3, s.at(9), 1e-15);
        assertEquals(1e-3, s.at(10), 1e-15); // cosine progress 0
        assertEquals(1e-4 + 0.9e-3 * 0.5, s.at(60), 1e-15); // halfway: cos(π/2) = 0
        assertEquals(1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI * 99 / 100)), s.at(109), 1e-15);
        LrSchedule noWarmup = new LrSchedule(2.0, 0, 4, 0.0);
        assertEquals(2.0, noWarmup.at(0), 1e-15);
        assertEquals(1.0 + Math.cos(Math.PI / 4), noWarmup.at(1), 1e-12);
    }
}
