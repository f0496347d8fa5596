package io.sparklora.nn;

import static io.sparklora.nn.NnTestSupport.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraModule;
import io.sparklora.model.LinearModule;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The stacked q/k/v path (one frozen GEMM, A matrices stacked) against the reference: the same layers run one by one
 * through {@link LoraLinear#forward} / {@link LoraLinear#backward}, the unfused path the gradient checks cover.
 */
class FusedLinearTest {
    private static final int ROWS = 9, IN = 12;
    private static final int[] OUTS = {12, 4, 4}; // q, k, v with grouped k/v heads
    private static final boolean[] ADAPTED = {true, false, true}; // PEFT's default targets: q_proj, v_proj

    /** Three layers over the same weights and adapters (fresh grads), built from one seed. */
    private static List<LoraLinear> layers(boolean bias) {
        SplitMix64 rng = new SplitMix64(3);
        List<LoraLinear> out = new ArrayList<>();
        for (int i = 0; i < OUTS.length; i++) {
            LinearModule m = new LinearModule("layers.0.p" + i, "p" + i, 0, IN, OUTS[i], WeightLayout.OUT_IN, bias);
            Tensor w = gaussian(rng, 0.5, OUTS[i], IN);
            Tensor b = bias ? gaussian(rng, 0.5, OUTS[i]) : null;
            LoraModule lora = new LoraModule(m, 2 + i, 4f, 4f / (2 + i), 0f, gaussian(rng, 0.5, 2 + i, IN),
                    gaussian(rng, 0.5, OUTS[i], 2 + i));
            out.add(new LoraLinear(m, w, b, ADAPTED[i] ? lora : null, null, null));
        }
        return out;
    }

    private static void assertClose(String what, FloatBuffer expected, FloatBuffer actual, int n) {
        for (int i = 0; i < n; i++) {
            float e = expected.get(i);
            assertEquals(e, actual.get(i), 1e-5f * (1 + Math.abs(e)), what + "[" + i + "]");
        }
    }

    private static void stackedEqualsOneByOne(boolean bias) {
        int width = OUTS[0] + OUTS[1] + OUTS[2];
        SplitMix64 rng = new SplitMix64(11);
        FloatBuffer x = gaussian(rng, ROWS * IN, 1.0);
        FloatBuffer dy = gaussian(rng, ROWS * width, 1.0);
        List<LoraLinear> ref = layers(bias);
        FloatBuffer yRef = Tensor.allocate(ROWS * width);
        FloatBuffer dxRef = Tensor.allocate(ROWS * IN);
        int col = 0;
        for (int i = 0; i < ref.size(); i++) {
            ref.get(i).forward(ROWS, x, 0, IN, 0f, yRef, col, width, null);
            col += OUTS[i];
        }
        col = 0;
        for (int i = 0; i < ref.size(); i++) {
            ref.get(i).backward(ROWS, dy, col, width, x, 0, IN, i == 0 ? 0f : 1f, dxRef, 0, IN);
            col += OUTS[i];
        }
        List<LoraLinear> parts = layers(bias);
        FusedLinear fused = new FusedLinear(parts);
        assertTrue(fused.stacked());
        FloatBuffer y = Tensor.allocate(ROWS * width);
        FloatBuffer dx = gaussian(rng, ROWS * IN, 1.0); // overwritten, whatever it held
        fused.forward(ROWS, x, 0, IN, y, 0, width, null);
        fused.backward(ROWS, dy, 0, width, x, 0, IN, dx, 0, IN);
        assertClose("y", yRef, y, ROWS * width);
        assertClose("dx", dxRef, dx, ROWS * IN);
        for (int i = 0; i < parts.size(); i++) {
            if (ADAPTED[i]) {
                LoraModule e = ref.get(i).lora();
                LoraModule a = parts.get(i).lora();
                assertClose("dA" + i, e.loraA().grad().data(), a.loraA().grad().data(), e.rank() * IN);
                assertClose("dB" + i, e.loraB().grad().data(), a.loraB().grad().data(), OUTS[i] * e.rank());
            }
        }
    }

    @Test
    void stackedEqualsOneByOne() {
        stackedEqualsOneByOne(false);
    }

    @Test
    void stackedWithBiasesEqualsOneByOne() {
        stackedEqualsOneByOne(true); // Qwen2's q/k/v biases
    }

    @Test
    void layersThatTrainTheirWeightsAreNotStacked() {
        SplitMix64 rng = new SplitMix64(5);
        LinearModule m = new LinearModule("layers.0.p", "p", 0, IN, 4, WeightLayout.OUT_IN, false);
        Tensor w = gaussian(rng, 0.5, 4, IN);
        LoraLinear trained = new LoraLinear(m, w, null, null, Tensor.zeros(4, IN), null);
        assertFalse(new FusedLinear(List.of(trained, layers(false).get(1))).stacked());
    }
}
