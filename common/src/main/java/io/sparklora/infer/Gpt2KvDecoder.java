package io.sparklora.infer;

import io.sparklora.model.BaseModel;
import io.sparklora.model.Gpt2Config;
import io.sparklora.nn.Activations;
import io.sparklora.nn.Embedding;
import io.sparklora.nn.Norms;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * {@code GPT2LMHeadModel} for {@link KvDecoder}: the blocks of {@code io.sparklora.nn.Gpt2Model}'s forward, with the
 * learned position of each row's own position and attention over the cache; the fused c_attn output holds q, k, v
 * side by side and the cache takes k and v straight from it.
 */
final class Gpt2KvDecoder extends KvDecoder {
    private static final String P = Gpt2Config.PREFIX;
    private final Gpt2Config c;
    private final float eps;
    private final int[][] proj; // per layer: linear indices of c_attn, attn.c_proj, c_fc, mlp.c_proj
    private final FloatBuffer[] ln1w, ln1b, ln2w, ln2b; // per layer (hidden)
    private final FloatBuffer lnfw, lnfb; // (hidden)
    private final FloatBuffer wte; // (vocab, hidden)
    private final FloatBuffer wpe; // (positions, hidden)

    private final FloatBuffer x; // (maxRows, hidden) residual stream
    private final FloatBuffer n; // (maxRows, hidden)
    private final FloatBuffer mean, rstd; // (maxRows)
    private final FloatBuffer qkv; // (maxRows, 3·hidden)
    private final FloatBuffer attn; // (maxRows, hidden)
    private final FloatBuffer fc, act, tanh; // (maxRows, inner)

    Gpt2KvDecoder(BaseModel base, int context, int maxRows) {
        super(base, context, maxRows);
        this.c = (Gpt2Config) base.config();
        this.eps = (float) c.layerNormEpsilon();
        int layers = c.numLayers();
        this.proj = new int[layers][];
        this.ln1w = new FloatBuffer[layers];
        this.ln1b = new FloatBuffer[layers];
        this.ln2w = new FloatBuffer[layers];
        this.ln2b = new FloatBuffer[layers];
        String[] names = {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
        for (int l = 0; l < layers; l++) {
            String p = P + "h." + l + ".";
            proj[l] = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                proj[l][i] = linearIndex(p + names[i]);
            }
            ln1w[l] = base.weight(p + "ln_1.weight").data();
            ln1b[l] = base.weight(p + "ln_1.bias").data();
            ln2w[l] = base.weight(p + "ln_2.weight").data();
            ln2b[l] = base.weight(p + "ln_2.bias").data();
        }
        this.lnfw = base.weight(P + "ln_f.weight").data();
        this.lnfb = base.weight(P + "ln_f.bias").data();
        this.wte = base.weight(P + "wte.weight").data();
        this.wpe = base.weight(P + "wpe.weight").data();
        int f = c.innerSize();
        this.x = Tensor.allocate(maxRows * dim);
        this.n = Tensor.allocate(maxRows * dim);
        this.mean = Tensor.allocate(maxRows);
        this.rstd = Tensor.allocate(maxRows);
        this.qkv = Tensor.allocate(maxRows * 3 * dim);
        this.attn = Tensor.allocate(maxRows * dim);
        this.fc = Tensor.allocate(maxRows * f);
        this.act = Tensor.allocate(maxRows * f);
        this.tanh = Tensor.allocate(maxRows * f);
    }

    @Override
    protected int kvDim() {
        return dim;
    }

    @Override
    protected void forwardRows() {
        int d = dim;
        int f = c.innerSize();
        int hs = c.numHeads();
        Embedding.embeddingForward(rows, c.vocabSize(), d, rowTokens, wte, x);
        Embedding.positionsForwardAt(rows, rowPositions, d, wpe, x);
        for (int l = 0; l < proj.length; l++) {
            int[] m = proj[l];
            Norms.layerNormForward(rows, d, x, ln1w[l], ln1b[l], eps, n, mean, rstd);
            linear(m[0], n, 0, d, 0f, qkv, 0, 3 * d);
            appendKv(l, qkv, d, 2 * d, 3 * d);
            attend(l, hs, hs, c.headDim(), qkv, 0, 3 * d, attn, d);
            linear(m[1], attn, 0, d, 1f, x, 0, d); // residual: x += c_proj(attn)
            Norms.layerNormForward(rows, d, x, ln2w[l], ln2b[l], eps, n, mean, rstd);
            linear(m[2], n, 0, d, 0f, fc, 0, f);
            Activations.geluNewForward(rows * f, fc, act, tanh);
            linear(m[3], act, 0, f, 1f, x, 0, d); // residual: x += mlp.c_proj(gelu(fc))
        }
        Norms.layerNormForward(rows, d, x, lnfw, lnfb, eps, hidden, mean, rstd);
    }
}
