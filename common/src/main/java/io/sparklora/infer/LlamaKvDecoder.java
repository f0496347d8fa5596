package io.sparklora.infer;

import io.sparklora.model.BaseModel;
import io.sparklora.model.LlamaConfig;
import io.sparklora.nn.Activations;
import io.sparklora.nn.Embedding;
import io.sparklora.nn.Norms;
import io.sparklora.nn.Rope;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * {@code LlamaForCausalLM} (and Mistral, Qwen2, Qwen3) for {@link KvDecoder}: the blocks of {@code io.sparklora.nn.LlamaModel}'s forward, with
 * RoPE at each row's own position and attention over the cache. Modules are wired by their Hugging Face names.
 */
final class LlamaKvDecoder extends KvDecoder {
    private final LlamaConfig c;
    private final float eps;
    private final Rope rope; // (context) positions
    private final int[][] proj; // per layer: linear indices of q, k, v, o, gate, up, down
    private final FloatBuffer[] norm1, norm2; // per layer (hidden)
    private final FloatBuffer[] qNorm, kNorm; // per layer (headDim): Qwen3's q_norm, k_norm; null entries without
    private final FloatBuffer finalNorm; // (hidden)
    private final FloatBuffer embed; // (vocab, hidden)

    private final FloatBuffer x; // (maxRows, hidden) residual stream
    private final FloatBuffer n; // (maxRows, hidden) norm output
    private final FloatBuffer rstd; // (maxRows)
    private final FloatBuffer qkv; // (maxRows, qDim + 2·kvDim)
    private final FloatBuffer attn; // (maxRows, qDim)
    private final FloatBuffer qRaw, kRaw, qkRstd; // (maxRows, qDim), (maxRows, kvDim), (maxRows·heads): norm scratch
    private final FloatBuffer gate, up, act, sigmoid; // (maxRows, ffn)

    LlamaKvDecoder(BaseModel base, int context, int maxRows) {
        super(base, context, maxRows);
        this.c = (LlamaConfig) base.config();
        this.eps = (float) c.rmsNormEps();
        this.rope = new Rope(c.headDim(), c.ropeInverseFrequencies(), context);
        int layers = c.numHiddenLayers();
        this.proj = new int[layers][];
        this.norm1 = new FloatBuffer[layers];
        this.norm2 = new FloatBuffer[layers];
        this.qNorm = new FloatBuffer[layers];
        this.kNorm = new FloatBuffer[layers];
        String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            proj[l] = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                proj[l][i] = linearIndex(p + names[i]);
            }
            norm1[l] = base.weight(p + "input_layernorm.weight").data();
            norm2[l] = base.weight(p + "post_attention_layernorm.weight").data();
            if (c.qkNorm()) {
                qNorm[l] = base.weight(p + "self_attn.q_norm.weight").data();
                kNorm[l] = base.weight(p + "self_attn.k_norm.weight").data();
            }
        }
        this.finalNorm = base.weight("model.norm.weight").data();
        this.embed = base.weight("model.embed_tokens.weight").data();
        int f = c.intermediateSize();
        this.x = Tensor.allocate(maxRows * dim);
        this.n = Tensor.allocate(maxRows * dim);
        this.rstd = Tensor.allocate(maxRows);
        this.qkv = Tensor.allocate(maxRows * qkvWidth());
        this.attn = Tensor.allocate(maxRows * c.qDim());
        this.qRaw = Tensor.allocate(maxRows * c.qDim());
        this.kRaw = Tensor.allocate(maxRows * c.kvDim());
        this.qkRstd = Tensor.allocate(maxRows * c.numAttentionHeads());
        this.gate = Tensor.allocate(maxRows * f);
        this.up = Tensor.allocate(maxRows * f);
        this.act = Tensor.allocate(maxRows * f);
        this.sigmoid = Tensor.allocate(maxRows * f);
    }

    private int qkvWidth() {
        return c.qDim() + 2 * c.kvDim();
    }

    @Override
    protected int kvDim() {
        return c.kvDim();
    }

    @Override
    protected void forwardRows() {
        int d = dim;
        int f = c.intermediateSize();
        int w = qkvWidth();
        int qd = c.qDim();
        int kvd = c.kvDim();
        Embedding.embeddingForward(rows, c.vocabSize(), d, rowTokens, embed, x);
        for (int l = 0; l < proj.length; l++) {
            int[] m = proj[l];
            Norms.rmsNormForward(rows, d, x, norm1[l], eps, n, rstd);
            linear(m[0], n, 0, d, 0f, qkv, 0, w);
            linear(m[1], n, 0, d, 0f, qkv, qd, w);
            linear(m[2], n, 0, d, 0f, qkv, qd + kvd, w);
            if (qNorm[l] != null) {
                Norms.headRmsNormForward(rows, c.numAttentionHeads(), c.headDim(), qkv, 0, w, qNorm[l], eps, qRaw,
                        qkRstd);
                Norms.headRmsNormForward(rows, c.numKeyValueHeads(), c.headDim(), qkv, qd, w, kNorm[l], eps, kRaw,
                        qkRstd);
            }
            rope.forwardAt(rows, rowPositions, c.numAttentionHeads(), qkv, 0, w);
            rope.forwardAt(rows, rowPositions, c.numKeyValueHeads(), qkv, qd, w);
            appendKv(l, qkv, qd, qd + kvd, w);
            attend(l, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), qkv, 0, w, attn, qd);
            linear(m[3], attn, 0, qd, 1f, x, 0, d); // residual: x += o(attn)
            Norms.rmsNormForward(rows, d, x, norm2[l], eps, n, rstd);
            linear(m[4], n, 0, d, 0f, gate, 0, f);
            linear(m[5], n, 0, d, 0f, up, 0, f);
            Activations.swigluForward(rows * f, gate, up, act, sigmoid);
            linear(m[6], act, 0, f, 1f, x, 0, d); // residual: x += down(act)
        }
        Norms.rmsNormForward(rows, d, x, finalNorm, eps, hidden, rstd);
    }
}
