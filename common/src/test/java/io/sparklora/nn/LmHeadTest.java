package io.sparklora.nn;

import static io.sparklora.nn.NnTestSupport.checkGradient;
import static io.sparklora.nn.NnTestSupport.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.model.Batch;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import io.sparklora.util.SplitMix64;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * The chunked LM head against the whole-matrix computation (one GEMM to (rows, vocab) logits, then the full
 * cross-entropy pair): the same loss, the same dHidden and dW, for chunks that divide the rows and ones that do not;
 * and its dHidden against finite differences.
 */
class LmHeadTest {
    private static final int ROWS = 13, DIM = 8, VOCAB = 37;

    @Test
    void chunkedEqualsTheWholeMatrix() {
        SplitMix64 rng = new SplitMix64(4);
        FloatBuffer hidden = gaussian(rng, ROWS * DIM, 1.0);
        FloatBuffer w = gaussian(rng, VOCAB * DIM, 0.7);
        int[] targets = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            targets[r] = r % 4 == 1 ? Batch.IGNORE : rng.nextInt(VOCAB);
        }
        // the reference: whole logits, CrossEntropy's full forward/backward, Linear's backward
        FloatBuffer logits = Tensor.allocate(ROWS * VOCAB);
        FloatBuffer lse = Tensor.allocate(ROWS);
        FloatBuffer dLogits = Tensor.allocate(ROWS * VOCAB);
        Linear.linearForward(ROWS, DIM, VOCAB, hidden, 0, DIM, w, WeightLayout.OUT_IN, null, 0f, logits, 0, VOCAB);
        double want = CrossEntropy.crossEntropyForward(ROWS, VOCAB, logits, targets, lse);
        CrossEntropy.crossEntropyBackward(ROWS, VOCAB, logits, targets, lse, dLogits);
        FloatBuffer wantDh = Tensor.allocate(ROWS * DIM);
        FloatBuffer wantDw = Tensor.allocate(VOCAB * DIM);
        Linear.linearBackward(ROWS, DIM, VOCAB, dLogits, 0, VOCAB, hidden, 0, DIM, w, WeightLayout.OUT_IN, 0f, wantDh,
                0, DIM, wantDw, null);

        for (int chunkRows : new int[] {1, 3, 13, 100}) {
            LmHead head = new LmHead(VOCAB, DIM, chunkRows * VOCAB);
            double got = head.forward(ROWS, hidden, w, targets);
            assertEquals(Math.min(chunkRows, ROWS), head.chunkRows());
            assertEquals(want, got, 1e-6 * Math.abs(want), "loss, chunks of " + chunkRows);
            FloatBuffer dh = Tensor.allocate(ROWS * DIM);
            FloatBuffer dw = Tensor.allocate(VOCAB * DIM);
            head.backward(ROWS, hidden, w, targets, dh, dw);
            for (int i = 0; i < ROWS * DIM; i++) {
                assertEquals(wantDh.get(i), dh.get(i), 1e-6, "dHidden[" + i + "], chunks of " + chunkRows);
            }
            for (int i = 0; i < VOCAB * DIM; i++) {
                assertEquals(wantDw.get(i), dw.get(i), 1e-6, "dW[" + i + "], chunks of " + chunkRows);
            }
            Tensor full = head.logits(ROWS, hidden, w);
            for (int i = 0; i < ROWS * VOCAB; i++) {
                assertEquals(logits.get(i), full.get(i), 0f);
            }
        }
    }

    @Test
    void chunkedGradientMatchesFiniteDifferences() {
        SplitMix64 rng = new SplitMix64(5);
        FloatBuffer hidden = gaussian(rng, ROWS * DIM, 1.0);
        FloatBuffer w = gaussian(rng, VOCAB * DIM, 0.7);
        int[] targets = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            targets[r] = r == 4 ? Batch.IGNORE : rng.nextInt(VOCAB);
        }
        LmHead head = new LmHead(VOCAB, DIM, 4 * VOCAB);
        head.forward(ROWS, hidden, w, targets);
        FloatBuffer dh = Tensor.allocate(ROWS * DIM);
        FloatBuffer dw = Tensor.allocate(VOCAB * DIM);
        head.backward(ROWS, hidden, w, targets, dh, dw);
        checkGradient("dHidden", hidden, ROWS * DIM, dh, () -> head.forward(ROWS, hidden, w, targets), 1000, 1e-2f,
                1e-2, 1e-3);
        checkGradient("dW", w, VOCAB * DIM, dw, () -> head.forward(ROWS, hidden, w, targets), 1000, 1e-2f, 1e-2,
                1e-3);
    }
}
