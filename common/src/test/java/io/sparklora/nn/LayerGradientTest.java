package io.sparklora.nn;

import static io.sparklora.nn.NnTestSupport.checkGradient;
import static io.sparklora.nn.NnTestSupport.gaussian;
import static io.sparklora.nn.NnTestSupport.weightedSum;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.lora.LoraModule;
import io.sparklora.model.Batch;
import io.sparklora.model.LinearModule;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of every layer kernel: the scalar loss is Σ y ⊙ R for a fixed random R (summed in double),
 * so the analytic gradients come from backward with dy = R.
 */
class LayerGradientTest {
    private static final float H = 1e-2f;

    @Test
    void linearWithLoraAndDropoutOutIn() {
        linearWithLora(WeightLayout.OUT_IN, 0.3f);
    }

    @Test
    void linearWithLoraConv1dLayout() {
        linearWithLora(WeightLayout.IN_OUT, 0f);
    }

    private void linearWithLora(WeightLayout layout, float dropout) {
        SplitMix64 rng = new SplitMix64(1);
        int rows = 6, in = 5, out = 7, rank = 3;
        LinearModule m = new LinearModule("layer.proj", "proj", 0, in, out, layout, true);
        Tensor w = layout == WeightLayout.OUT_IN ? gaussian(rng, 0.5, out, in) : gaussian(rng, 0.5, in, out);
        Tensor bias = gaussian(rng, 0.5, out);
        LoraModule lora = new LoraModule(m, rank, 6f, 2f, dropout, gaussian(rng, 0.5, rank, in),
                gaussian(rng, 0.5, out, rank));
        Tensor dW = Tensor.zeros(w.shape());
        Tensor db = Tensor.zeros(out);
        LoraLinear layer = new LoraLinear(m, w, bias, lora, dW, db);
        FloatBuffer x = gaussian(rng, rows * in, 1.0);
        FloatBuffer r = gaussian(rng, rows * out, 1.0);
        FloatBuffer y = Tensor.allocate(rows * out);
        SplitMix64 maskRng = new SplitMix64(99);
        java.util.function.DoubleSupplier loss = () -> {
            maskRng.setState(99); // the same dropout mask on every evaluation
            layer.forward(rows, x, 0, in, 0f, y, 0, out, maskRng);
            return weightedSum(y, r, rows * out);
        };
        loss.getAsDouble();
        FloatBuffer dx = Tensor.allocate(rows * in);
        layer.backward(rows, r, 0, out, x, 0, in, 0f, dx, 0, in);
        checkGradient("dx", x, rows * in, dx, loss, 1000, H, 1e-3, 1e-3);
        checkGradient("dA", lora.loraA().value().data(), rank * in, lora.loraA().grad().data(), loss, 1000, H, 1e-3,
                1e-3);
        checkGradient("dB", lora.loraB().value().data(), out * rank, lora.loraB().grad().data(), loss, 1000, H, 1e-3,
                1e-3);
        checkGradient("dW", w.data(), in * out, dW.data(), loss, 1000, H, 1e-3, 1e-3);
        checkGradient("db", bias.data(), out, db.data(), loss, 1000, H, 1e-3, 1e-3);
    }

    @Test
    void rmsNorm() {
        SplitMix64 rng = new SplitMix64(2);
        int rows = 4, dim = 9;
        FloatBuffer x = gaussian(rng, rows * dim, 1.0);
        FloatBuffer w = gaussian(rng, dim, 1.0);
        FloatBuffer r = gaussian(rng, rows * dim, 1.0);
        FloatBuffer y = Tensor.allocate(rows * dim);
        FloatBuffer rstd = Tensor.allocate(rows);
        java.util.function.DoubleSupplier loss = () -> {
            Norms.rmsNormForward(rows, dim, x, w, 1e-5f, y, rstd);
            return weightedSum(y, r, rows * dim);
        };
        loss.getAsDouble();
        FloatBuffer dx = Tensor.allocate(rows * dim);
        FloatBuffer dw = Tensor.allocate(dim);
        Norms.rmsNormBackward(rows, dim, r, x, w, rstd, dx, dw);
        checkGradient("dx", x, rows * dim, dx, loss, 1000, H, 1e-2, 1e-3);
        checkGradient("dw", w, dim, dw, loss, 1000, H, 1e-2, 1e-3);
        // against the definition: y = x / sqrt(mean(x²) + eps) · w
        double ss = 0;
        for (int j = 0; j < dim; j++) {
            ss += x.get(j) * x.get(j);
        }
        assertEquals(x.get(3) / Math.sqrt(ss / dim + 1e-5) * w.get(3), y.get(3), 1e-5);
    }

    /** Qwen3's per-head q/k norm inside a wider row (offset 3, leading dimension 2 more than the heads). */
    @Test
    void headRmsNorm() {
        SplitMix64 rng = new SplitMix64(5);
        int rows = 3, heads = 2, headDim = 6, off = 3, ld = heads * headDim + 5;
        int width = heads * headDim;
        FloatBuffer input = gaussian(rng, rows * ld, 1.0);
        FloatBuffer w = gaussian(rng, headDim, 1.0);
        FloatBuffer r = gaussian(rng, rows * ld, 1.0);
        FloatBuffer y = Tensor.allocate(rows * ld);
        FloatBuffer saved = Tensor.allocate(rows * width);
        FloatBuffer rstd = Tensor.allocate(rows * heads);
        java.util.function.DoubleSupplier loss = () -> {
            y.put(0, input, 0, rows * ld);
            Norms.headRmsNormForward(rows, heads, headDim, y, off, ld, w, 1e-6f, saved, rstd);
            return weightedSum(y, r, rows * ld);
        };
        loss.getAsDouble();
        // against the definition, one head vector: y = x / sqrt(mean(x²) + eps) · w
        double ss = 0;
        for (int j = 0; j < headDim; j++) {
            ss += Math.pow(input.get(ld + off + headDim + j), 2);
        }
        assertEquals(input.get(ld + off + headDim + 2) / Math.sqrt(ss / headDim + 1e-6) * w.get(2),
                y.get(ld + off + headDim + 2), 1e-5);
        assertEquals(input.get(ld + 1), y.get(ld + 1), 0f, "columns outside the heads are untouched");
        FloatBuffer d = Tensor.allocate(rows * ld);
        d.put(0, r, 0, rows * ld);
        FloatBuffer dw = Tensor.allocate(headDim);
        Norms.headRmsNormBackward(rows, heads, headDim, d, off, ld, saved, w, rstd, dw);
        // d now holds ∂loss/∂input in the heads' columns; outside them the input passes through with weight r
        checkGradient("dx", input, rows * ld, d, loss, 1000, H, 1e-2, 1e-3);
        checkGradient("dw", w, headDim, dw, loss, 1000, H, 1e-2, 1e-3);
    }

    @Test
    void layerNorm() {
        SplitMix64 rng = new SplitMix64(3);
        int rows = 4, dim = 9;
        FloatBuffer x = gaussian(rng, rows * dim, 1.0);
        FloatBuffer w = gaussian(rng, dim, 1.0);
        FloatBuffer b = gaussian(rng, dim, 1.0);
        FloatBuffer r = gaussian(rng, rows * dim, 1.0);
        FloatBuffer y = Tensor.allocate(rows * dim);
        FloatBuffer mean = Tensor.allocate(rows);
        FloatBuffer rstd = Tensor.allocate(rows);
        java.util.function.DoubleSupplier loss = () -> {
            Norms.layerNormForward(rows, dim, x, w, b, 1e-5f, y, mean, rstd);
            return weightedSum(y, r, rows * dim);
        };
        loss.getAsDouble();
        FloatBuffer dx = Tensor.allocate(rows * dim);
        FloatBuffer dw = Tensor.allocate(dim);
        FloatBuffer db = Tensor.allocate(dim);
        Norms.layerNormBackward(rows, dim, r, x, w, mean, rstd, dx, dw, db);
        checkGradient("dx", x, rows * dim, dx, loss, 1000, H, 1e-2, 1e-3);
        checkGradient("dw", w, dim, dw, loss, 1000, H, 1e-2, 1e-3);
        checkGradient("db", b, dim, db, loss, 1000, H, 1e-2, 1e-3);
        double mu = 0, var = 0;
        for (int j = 0; j < dim; j++) {
            mu += x.get(j) / dim;
        }
        for (int j = 0; j < dim; j++) {
            var += (x.get(j) - mu) * (x.get(j) - mu) / dim;
        }
        assertEquals((x.get(2) - mu) / Math.sqrt(var + 1e-5) * w.get(2) + b.get(2), y.get(2), 1e-5);
    }

    @Test
    void attentionWithRopeAndGqa() {
        attentionWithRope(2, 5, 4, 2, 1000);
    }

    /** 150 positions: three query blocks, so the block-skipping of the masked triangle is exercised. */
    @Test
    void attentionAcrossQueryBlocks() {
        attentionWithRope(1, 150, 2, 1, 60);
    }

    private void attentionWithRope(int batch, int seq, int heads, int kvHeads, int samples) {
        SplitMix64 rng = new SplitMix64(4);
        int hd = 4, rows = batch * seq, qd = heads * hd, kvd = kvHeads * hd, w = qd + 2 * kvd;
        Rope rope = new Rope(hd, 10000.0, seq);
        FloatBuffer raw = gaussian(rng, rows * w, 1.0); // (rows, q|k|v) before RoPE
        FloatBuffer qkv = Tensor.allocate(rows * w);
        FloatBuffer probs = Tensor.allocate(batch * heads * seq * seq);
        FloatBuffer out = Tensor.allocate(rows * qd);
        FloatBuffer r = gaussian(rng, rows * qd, 1.0);
        java.util.function.DoubleSupplier loss = () -> {
            qkv.put(0, raw, 0, rows * w);
            rope.forward(rows, seq, heads, qkv, 0, w);
            rope.forward(rows, seq, kvHeads, qkv, qd, w);
            Attention.attentionForward(batch, seq, heads, kvHeads, hd, qkv, 0, w, qkv, qd, w, qkv, qd + kvd, w, probs,
                    out, 0, qd);
            return weightedSum(out, r, rows * qd);
        };
        loss.getAsDouble();
        FloatBuffer dqkv = Tensor.allocate(rows * w);
        Attention.attentionBackward(batch, seq, heads, kvHeads, hd, qkv, 0, w, qkv, qd, w, qkv, qd + kvd, w, probs,
                r, 0, qd, dqkv, 0, w, dqkv, qd, w, dqkv, qd + kvd, w, Tensor.allocate(seq * seq));
        rope.backward(rows, seq, heads, dqkv, 0, w);
        rope.backward(rows, seq, kvHeads, dqkv, qd, w);
        checkGradient("dqkv", raw, rows * w, dqkv, loss, samples, H, 1e-2, 1e-3);
    }

    @Test
    void swiglu() {
        SplitMix64 rng = new SplitMix64(5);
        int n = 40;
        FloatBuffer gate = gaussian(rng, n, 2.0);
        FloatBuffer up = gaussian(rng, n, 1.0);
        FloatBuffer r = gaussian(rng, n, 1.0);
        FloatBuffer act = Tensor.allocate(n);
        FloatBuffer sig = Tensor.allocate(n);
        java.util.function.DoubleSupplier loss = () -> {
            Activations.swigluForward(n, gate, up, act, sig);
            return weightedSum(act, r, n);
        };
        loss.getAsDouble();
        FloatBuffer dGate = Tensor.allocate(n);
        FloatBuffer dUp = Tensor.allocate(n);
        Activations.swigluBackward(n, r, gate, up, sig, dGate, dUp);
        checkGradient("dGate", gate, n, dGate, loss, n, H, 1e-2, 1e-3);
        checkGradient("dUp", up, n, dUp, loss, n, H, 1e-2, 1e-3);
        loss.getAsDouble(); // the checks left the last evaluation perturbed
        for (int i = 0; i < n; i++) {
            double g = gate.get(i);
            assertEquals(g / (1 + Math.exp(-g)) * up.get(i), act.get(i), 1e-6, "swiglu at " + i);
        }
        FloatBuffer rebuilt = Tensor.allocate(n);
        Activations.swigluFromSigmoid(n, gate, up, sig, rebuilt);
        assertEquals(act, rebuilt, "the activation rebuilt from the kept sigmoid");
    }

    /** GPT-2's MLP: c_fc (Conv1D, bias) → gelu_new → c_proj, gradients at the input and at both weights. */
    @Test
    void geluMlp() {
        SplitMix64 rng = new SplitMix64(6);
        int rows = 5, d = 4, f = 8;
        LinearModule fcM = new LinearModule("mlp.c_fc", "c_fc", 0, d, f, WeightLayout.IN_OUT, true);
        LinearModule projM = new LinearModule("mlp.c_proj", "c_proj", 0, f, d, WeightLayout.IN_OUT, true);
        Tensor fcW = gaussian(rng, 0.7, d, f), fcB = gaussian(rng, 0.5, f), projW = gaussian(rng, 0.7, f, d);
        Tensor dFcW = Tensor.zeros(d, f), dProjW = Tensor.zeros(f, d);
        LoraLinear fc = new LoraLinear(fcM, fcW, fcB, null, dFcW, Tensor.zeros(f));
        LoraLinear proj = new LoraLinear(projM, projW, gaussian(rng, 0.5, d), null, dProjW, Tensor.zeros(d));
        FloatBuffer x = gaussian(rng, rows * d, 1.0);
        FloatBuffer r = gaussian(rng, rows * d, 1.0);
        FloatBuffer pre = Tensor.allocate(rows * f), act = Tensor.allocate(rows * f), y = Tensor.allocate(rows * d);
        FloatBuffer tanh = Tensor.allocate(rows * f);
        java.util.function.DoubleSupplier loss = () -> {
            fc.forward(rows, x, 0, d, 0f, pre, 0, f, null);
            Activations.geluNewForward(rows * f, pre, act, tanh);
            proj.forward(rows, act, 0, f, 0f, y, 0, d, null);
            return weightedSum(y, r, rows * d);
        };
        loss.getAsDouble();
        FloatBuffer dAct = Tensor.allocate(rows * f), dPre = Tensor.allocate(rows * f), dx = Tensor.allocate(rows * d);
        proj.backward(rows, r, 0, d, act, 0, f, 0f, dAct, 0, f);
        Activations.geluNewBackward(rows * f, dAct, pre, tanh, dPre);
        fc.backward(rows, dPre, 0, f, x, 0, d, 0f, dx, 0, d);
        checkGradient("dx", x, rows * d, dx, loss, 1000, H, 1e-2, 1e-3);
        checkGradient("dW c_fc", fcW.data(), d * f, dFcW.data(), loss, 1000, H, 1e-2, 1e-3);
        checkGradient("dW c_proj", projW.data(), f * d, dProjW.data(), loss, 1000, H, 1e-2, 1e-3);
        loss.getAsDouble(); // the checks left the last evaluation perturbed
        for (int i = 0; i < rows * f; i++) {
            double v = pre.get(i);
            assertEquals(0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), act.get(i),
                    1e-6, "gelu_new at " + i);
        }
        FloatBuffer rebuilt = Tensor.allocate(rows * f);
        Activations.geluNewFromTanh(rows * f, pre, tanh, rebuilt);
        assertEquals(act, rebuilt, "the activation rebuilt from the kept tanh");
    }

    @Test
    void embeddingAndPositions() {
        SplitMix64 rng = new SplitMix64(7);
        int vocab = 6, dim = 3, seq = 4, rows = 8;
        int[] tokens = {1, 5, 1, 0, 2, 2, 5, 3};
        FloatBuffer table = gaussian(rng, vocab * dim, 1.0);
        FloatBuffer wpe = gaussian(rng, seq * dim, 1.0);
        FloatBuffer r = gaussian(rng, rows * dim, 1.0);
        FloatBuffer y = Tensor.allocate(rows * dim);
        java.util.function.DoubleSupplier loss = () -> {
            Embedding.embeddingForward(rows, vocab, dim, tokens, table, y);
            Embedding.positionsForward(rows, seq, dim, wpe, y);
            return weightedSum(y, r, rows * dim);
        };
        loss.getAsDouble();
        assertEquals(table.get(5 * dim + 1) + wpe.get(dim + 1), y.get(dim + 1), 1e-7);
        FloatBuffer dTable = Tensor.allocate(vocab * dim);
        FloatBuffer dWpe = Tensor.allocate(seq * dim);
        Embedding.embeddingBackward(rows, dim, tokens, r, dTable);
        Embedding.positionsBackward(rows, seq, dim, r, dWpe);
        checkGradient("dTable", table, vocab * dim, dTable, loss, 1000, H, 1e-3, 1e-3);
        checkGradient("dWpe", wpe, seq * dim, dWpe, loss, 1000, H, 1e-3, 1e-3);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Embedding.embeddingForward(1, vocab, dim, new int[] {6}, table, y));
        assertEquals("Cannot embed token 6 at row 0: outside the vocabulary of size 6", e.getMessage());
    }

    @Test
    void crossEntropyWithIgnoredTargets() {
        SplitMix64 rng = new SplitMix64(8);
        int rows = 5, vocab = 7;
        int[] targets = {3, Batch.IGNORE, 0, 6, Batch.IGNORE};
        FloatBuffer logits = gaussian(rng, rows * vocab, 3.0);
        FloatBuffer lse = Tensor.allocate(rows);
        java.util.function.DoubleSupplier loss = () -> CrossEntropy.crossEntropyForward(rows, vocab, logits, targets,
                lse);
        double value = loss.getAsDouble();
        double expected = 0;
        for (int r : new int[] {0, 2, 3}) {
            double s = 0;
            for (int j = 0; j < vocab; j++) {
                s += Math.exp(logits.get(r * vocab + j));
            }
            expected += (Math.log(s) - logits.get(r * vocab + targets[r])) / 3;
        }
        assertEquals(expected, value, 1e-6);
        FloatBuffer dLogits = Tensor.allocate(rows * vocab);
        CrossEntropy.crossEntropyBackward(rows, vocab, logits, targets, lse, dLogits);
        checkGradient("dLogits", logits, rows * vocab, dLogits, loss, 1000, 1e-3f, 1e-2, 1e-3);
        for (int j = 0; j < vocab; j++) {
            assertEquals(0f, dLogits.get(vocab + j), "ignored row 1 gets no gradient");
        }
        int[] none = {Batch.IGNORE, Batch.IGNORE, Batch.IGNORE, Batch.IGNORE, Batch.IGNORE};
        assertEquals(0.0, CrossEntropy.crossEntropyForward(rows, vocab, logits, none, lse));
    }
}
