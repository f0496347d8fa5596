package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Gpt2Config;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code GPT2LMHeadModel} (Radford et al. 2019) in float32, forward and backward over a whole batch:
 * {@code wte[tok] + wpe[pos]} → per block {@code h = x + c_proj(attn(c_attn(ln_1(x))))},
 * {@code x' = h + mlp.c_proj(gelu_new(c_fc(ln_2(h))))} → {@code ln_f} → head tied to {@code wte}. Conv1D weights are
 * (in, out); the fused c_attn output holds q, k, v side by side, which attention reads in place.
 */
final class Gpt2Model extends TransformerLm {
    private static final String P = Gpt2Config.PREFIX;
    private final Gpt2Config c;
    private final Block[] blocks;
    private final float eps;

    private FloatBuffer[] xs; // L+1 of (rows, hidden): xs[l] is block l's input, xs[L] ln_f's input
    private FloatBuffer meanFinal, rstdFinal; // (rows)
    private FloatBuffer dx; // (rows, hidden) gradient of the residual stream
    private FloatBuffer dn; // (rows, hidden) gradient at a LayerNorm output
    private FloatBuffer dqkv; // (rows, 3·hidden)
    private FloatBuffer dAttn; // (rows, hidden)
    private FloatBuffer act; // (rows, inner) gelu_new(fc), shared by all blocks
    private FloatBuffer dAct; // (rows, inner)
    private FloatBuffer dFc; // (rows, inner)
    private FloatBuffer scores; // (seq, seq)

    /** One block's modules and the activations its backward reads. */
    private static final class Block {
        LoraLinear cAttn, attnProj, cFc, mlpProj;
        FloatBuffer ln1w, ln1b, ln2w, ln2b; // (hidden)
        FloatBuffer dln1w, dln1b, dln2w, dln2b; // (hidden) or null
        FloatBuffer n1, n2; // (rows, hidden)
        FloatBuffer mean1, rstd1, mean2, rstd2; // (rows)
        FloatBuffer qkv; // (rows, 3·hidden)
        FloatBuffer probs; // (batch, heads, seq, seq)
        FloatBuffer attn; // (rows, hidden)
        FloatBuffer h; // (rows, hidden)
        FloatBuffer fc; // (rows, inner) pre-activation
        FloatBuffer tanh; // (rows, inner) gelu_new's tanh term; the activation is rebuilt in backward when needed
    }

    Gpt2Model(BaseModel base, List<LoraAdapter> adapters, Map<String, Parameter> weightParams) {
        super(base, adapters, weightParams);
        this.c = (Gpt2Config) base.config();
        this.eps = (float) c.layerNormEpsilon();
        this.blocks = new Block[c.numLayers()];
        for (int l = 0; l < blocks.length; l++) {
            Block b = new Block();
            String p = P + "h." + l + ".";
            b.cAttn = linear(p + "attn.c_attn");
            b.attnProj = linear(p + "attn.c_proj");
            b.cFc = linear(p + "mlp.c_fc");
            b.mlpProj = linear(p + "mlp.c_proj");
            b.ln1w = base.weight(p + "ln_1.weight").data();
            b.ln1b = base.weight(p + "ln_1.bias").data();
            b.ln2w = base.weight(p + "ln_2.weight").data();
            b.ln2b = base.weight(p + "ln_2.bias").data();
            b.dln1w = weightGrad(p + "ln_1.weight");
            b.dln1b = weightGrad(p + "ln_1.bias");
            b.dln2w = weightGrad(p + "ln_2.weight");
            b.dln2b = weightGrad(p + "ln_2.bias");
            blocks[l] = b;
        }
    }

    @Override
    protected void allocateBlocks() {
        int d = c.hiddenSize();
        int f = c.innerSize();
        xs = new FloatBuffer[blocks.length + 1];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Tensor.allocate(rows * d);
        }
        meanFinal = Tensor.allocate(rows);
        rstdFinal = Tensor.allocate(rows);
        for (Block b : blocks) {
            b.n1 = Tensor.allocate(rows * d);
            b.n2 = Tensor.allocate(rows * d);
            b.mean1 = Tensor.allocate(rows);
            b.rstd1 = Tensor.allocate(rows);
            b.mean2 = Tensor.allocate(rows);
            b.rstd2 = Tensor.allocate(rows);
            b.qkv = Tensor.allocate(rows * 3 * d);
            b.probs = Tensor.zeros(batchSize, c.numHeads(), seqLen, seqLen).data(); // checked size
            b.attn = Tensor.allocate(rows * d);
            b.h = Tensor.allocate(rows * d);
            b.fc = Tensor.allocate(rows * f);
            b.tanh = Tensor.allocate(rows * f);
        }
        dx = Tensor.allocate(rows * d);
        dn = Tensor.allocate(rows * d);
        dqkv = Tensor.allocate(rows * 3 * d);
        dAttn = Tensor.allocate(rows * d);
        act = Tensor.allocate(rows * f);
        dAct = Tensor.allocate(rows * f);
        dFc = Tensor.allocate(rows * f);
        scores = Tensor.allocate(seqLen * seqLen);
    }

    @Override
    protected void forwardBlocks() {
        int d = c.hiddenSize();
        int f = c.innerSize();
        int hs = c.numHeads();
        Embedding.embeddingForward(rows, c.vocabSize(), d, inputs, base.weight(P + "wte.weight").data(), xs[0]);
        Embedding.positionsForward(rows, seqLen, d, base.weight(P + "wpe.weight").data(), xs[0]);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            Norms.layerNormForward(rows, d, xs[l], b.ln1w, b.ln1b, eps, b.n1, b.mean1, b.rstd1);
            b.cAttn.forward(rows, b.n1, 0, d, 0f, b.qkv, 0, 3 * d, maskRng());
            Attention.attentionForward(batchSize, seqLen, hs, hs, c.headDim(), b.qkv, 0, 3 * d, b.qkv, d, 3 * d,
                    b.qkv, 2 * d, 3 * d, b.probs, b.attn, 0, d);
            copy(xs[l], b.h, rows * d);
            b.attnProj.forward(rows, b.attn, 0, d, 1f, b.h, 0, d, maskRng());
            Norms.layerNormForward(rows, d, b.h, b.ln2w, b.ln2b, eps, b.n2, b.mean2, b.rstd2);
            b.cFc.forward(rows, b.n2, 0, d, 0f, b.fc, 0, f, maskRng());
            Activations.geluNewForward(rows * f, b.fc, act, b.tanh);
            copy(b.h, xs[l + 1], rows * d);
            b.mlpProj.forward(rows, act, 0, f, 1f, xs[l + 1], 0, d, maskRng());
        }
        Norms.layerNormForward(rows, d, xs[blocks.length], base.weight(P + "ln_f.weight").data(),
                base.weight(P + "ln_f.bias").data(), eps, hidden, meanFinal, rstdFinal);
    }

    @Override
    protected void backwardBlocks() {
        int d = c.hiddenSize();
        int f = c.innerSize();
        int hs = c.numHeads();
        dx.put(0, new float[rows * d]);
        Norms.layerNormBackward(rows, d, dHidden, xs[blocks.length], base.weight(P + "ln_f.weight").data(),
                meanFinal, rstdFinal, dx, weightGrad(P + "ln_f.weight"), weightGrad(P + "ln_f.bias"));
        for (int l = blocks.length - 1; l >= lowestTrainedBlock(); l--) {
            Block b = blocks[l];
            if (b.mlpProj.backwardReadsInput()) {
                Activations.geluNewFromTanh(rows * f, b.fc, b.tanh, act);
            }
            b.mlpProj.backward(rows, dx, 0, d, act, 0, f, 0f, dAct, 0, f);
            Activations.geluNewBackward(rows * f, dAct, b.fc, b.tanh, dFc);
            b.cFc.backward(rows, dFc, 0, f, b.n2, 0, d, 0f, dn, 0, d);
            Norms.layerNormBackward(rows, d, dn, b.h, b.ln2w, b.mean2, b.rstd2, dx, b.dln2w, b.dln2b);
            b.attnProj.backward(rows, dx, 0, d, b.attn, 0, d, 0f, dAttn, 0, d);
            Attention.attentionBackward(batchSize, seqLen, hs, hs, c.headDim(), b.qkv, 0, 3 * d, b.qkv, d, 3 * d,
                    b.qkv, 2 * d, 3 * d, b.probs, dAttn, 0, d, dqkv, 0, 3 * d, dqkv, d, 3 * d, dqkv, 2 * d, 3 * d,
                    scores);
            boolean needDx = needsInputGradient(l);
            b.cAttn.backward(rows, dqkv, 0, 3 * d, b.n1, 0, d, 0f, needDx ? dn : null, 0, d);
            if (needDx) {
                Norms.layerNormBackward(rows, d, dn, xs[l], b.ln1w, b.mean1, b.rstd1, dx, b.dln1w, b.dln1b);
            }
        }
        if (trainsAllWeights()) {
            Embedding.embeddingBackward(rows, d, inputs, dx, weightGrad(P + "wte.weight"));
            Embedding.positionsBackward(rows, seqLen, d, dx, weightGrad(P + "wpe.weight"));
        }
    }
}
