package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.BaseModel;
import io.sparklora.model.LlamaConfig;
import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code LlamaForCausalLM} (Touvron et al. 2023) and the families built on its block (Mistral, Qwen2,
 * Qwen3) in float32, forward and backward over a whole batch: embed → per block
 * {@code h = x + o(attn(rope(q(n₁)), rope(k(n₁)), v(n₁)))}, {@code x' = h + down(silu(gate(n₂))·up(n₂))} with
 * {@code n = RMSNorm(·)} → final RMSNorm → LM head. Qwen3 RMS-normalises each head of q and k before RoPE
 * ({@code q_norm}, {@code k_norm}). Matches HF's eager attention path. Modules are wired by their HF names.
 */
final class LlamaModel extends TransformerLm {
    private final LlamaConfig c;
    private Rope rope; // cos/sin tables for the current sequence length (not max_position_embeddings: that can be 128k)
    private final float[] invFreq; // (headDim / 2) rotary frequencies under rope_scaling
    private final Block[] blocks;
    private final float eps;

    private FloatBuffer[] xs; // L+1 of (rows, hidden): xs[l] is block l's input, xs[L] the final norm's input
    private FloatBuffer rstdFinal; // (rows)
    // backward workspace shared by all blocks
    private FloatBuffer dx; // (rows, hidden): gradient of the residual stream
    private FloatBuffer dn; // (rows, hidden): gradient at a norm's output
    private FloatBuffer dqkv; // (rows, qDim + 2·kvDim)
    private FloatBuffer dAttn; // (rows, qDim)
    private FloatBuffer act; // (rows, ffn) SwiGLU output, shared by all blocks
    private FloatBuffer dAct; // (rows, ffn)
    private FloatBuffer dGate; // (rows, ffn)
    private FloatBuffer dUp; // (rows, ffn)
    private FloatBuffer scores; // (seq, seq) attention backward scratch

    /** One decoder layer's modules and the activations its backward reads. */
    private static final class Block {
        LoraLinear q, k, v, o, gate, up, down;
        FusedLinear qkvProj; // q, k, v over n₁ into qkv, one frozen GEMM when stackable
        FloatBuffer w1, w2; // (hidden) input_layernorm, post_attention_layernorm
        FloatBuffer dw1, dw2; // (hidden) or null
        FloatBuffer qNorm, kNorm; // (headDim) Qwen3's q_norm, k_norm; null without them
        FloatBuffer dqNorm, dkNorm; // (headDim) or null
        FloatBuffer qRaw, kRaw; // (rows, qDim), (rows, kvDim): q and k before their norms (qNorm only)
        FloatBuffer qRstd, kRstd; // (rows·heads), (rows·kvHeads)
        FloatBuffer n1, n2; // (rows, hidden) norm outputs
        FloatBuffer rstd1, rstd2; // (rows)
        FloatBuffer qkv; // (rows, qDim + 2·kvDim): rotated q, rotated k, v side by side
        FloatBuffer probs; // (batch, heads, seq, seq)
        FloatBuffer attn; // (rows, qDim) attention output
        FloatBuffer h; // (rows, hidden) residual after attention
        FloatBuffer gateOut, upOut, sigmoid; // (rows, ffn); the SwiGLU output is rebuilt in backward when needed
    }

    LlamaModel(BaseModel base, List<LoraAdapter> adapters, Map<String, Parameter> weightParams) {
        super(base, adapters, weightParams);
        this.c = (LlamaConfig) base.config();
        this.eps = (float) c.rmsNormEps();
        this.invFreq = c.ropeInverseFrequencies();
        this.blocks = new Block[c.numHiddenLayers()];
        for (int l = 0; l < blocks.length; l++) {
            Block b = new Block();
            String p = "model.layers." + l + ".";
            b.q = linear(p + "self_attn.q_proj");
            b.k = linear(p + "self_attn.k_proj");
            b.v = linear(p + "self_attn.v_proj");
            b.qkvProj = new FusedLinear(List.of(b.q, b.k, b.v));
            b.o = linear(p + "self_attn.o_proj");
            b.gate = linear(p + "mlp.gate_proj");
            b.up = linear(p + "mlp.up_proj");
            b.down = linear(p + "mlp.down_proj");
            b.w1 = base.weight(p + "input_layernorm.weight").data();
            b.w2 = base.weight(p + "post_attention_layernorm.weight").data();
            b.dw1 = weightGrad(p + "input_layernorm.weight");
            b.dw2 = weightGrad(p + "post_attention_layernorm.weight");
            if (c.qkNorm()) {
                b.qNorm = base.weight(p + "self_attn.q_norm.weight").data();
                b.kNorm = base.weight(p + "self_attn.k_norm.weight").data();
                b.dqNorm = weightGrad(p + "self_attn.q_norm.weight");
                b.dkNorm = weightGrad(p + "self_attn.k_norm.weight");
            }
            blocks[l] = b;
        }
    }

    private int qkvWidth() {
        return c.qDim() + 2 * c.kvDim();
    }

    @Override
    protected void allocateBlocks() {
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        rope = new Rope(c.headDim(), invFreq, seqLen);
        xs = new FloatBuffer[blocks.length + 1];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Tensor.allocate(rows * d);
        }
        rstdFinal = Tensor.allocate(rows);
        for (Block b : blocks) {
            b.n1 = Tensor.allocate(rows * d);
            b.n2 = Tensor.allocate(rows * d);
            b.rstd1 = Tensor.allocate(rows);
            b.rstd2 = Tensor.allocate(rows);
            b.qkv = Tensor.allocate(rows * qkvWidth());
            b.probs = Tensor.zeros(batchSize, c.numAttentionHeads(), seqLen, seqLen).data(); // checked size
            b.attn = Tensor.allocate(rows * c.qDim());
            b.h = Tensor.allocate(rows * d);
            b.gateOut = Tensor.allocate(rows * f);
            b.upOut = Tensor.allocate(rows * f);
            b.sigmoid = Tensor.allocate(rows * f);
            if (b.qNorm != null) {
                b.qRaw = Tensor.allocate(rows * c.qDim());
                b.kRaw = Tensor.allocate(rows * c.kvDim());
                b.qRstd = Tensor.allocate(rows * c.numAttentionHeads());
                b.kRstd = Tensor.allocate(rows * c.numKeyValueHeads());
            }
        }
        dx = Tensor.allocate(rows * d);
        dn = Tensor.allocate(rows * d);
        dqkv = Tensor.allocate(rows * qkvWidth());
        dAttn = Tensor.allocate(rows * c.qDim());
        act = Tensor.allocate(rows * f);
        dAct = Tensor.allocate(rows * f);
        dGate = Tensor.allocate(rows * f);
        dUp = Tensor.allocate(rows * f);
        scores = Tensor.allocate(seqLen * seqLen);
    }

    @Override
    protected void forwardBlocks() {
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        int w = qkvWidth();
        int qd = c.qDim();
        int kvd = c.kvDim();
        Embedding.embeddingForward(rows, c.vocabSize(), d, inputs, base.weight("model.embed_tokens.weight").data(),
                xs[0]);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            Norms.rmsNormForward(rows, d, xs[l], b.w1, eps, b.n1, b.rstd1);
            b.qkvProj.forward(rows, b.n1, 0, d, b.qkv, 0, w, maskRng());
            if (b.qNorm != null) {
                Norms.headRmsNormForward(rows, c.numAttentionHeads(), c.headDim(), b.qkv, 0, w, b.qNorm, eps, b.qRaw,
                        b.qRstd);
                Norms.headRmsNormForward(rows, c.numKeyValueHeads(), c.headDim(), b.qkv, qd, w, b.kNorm, eps, b.kRaw,
                        b.kRstd);
            }
            rope.forward(rows, seqLen, c.numAttentionHeads() + c.numKeyValueHeads(), b.qkv, 0, w); // q, k adjacent
            Attention.attentionForward(batchSize, seqLen, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(),
                    b.qkv, 0, w, b.qkv, qd, w, b.qkv, qd + kvd, w, b.probs, b.attn, 0, qd);
            copy(xs[l], b.h, rows * d);
            b.o.forward(rows, b.attn, 0, qd, 1f, b.h, 0, d, maskRng());
            Norms.rmsNormForward(rows, d, b.h, b.w2, eps, b.n2, b.rstd2);
            b.gate.forward(rows, b.n2, 0, d, 0f, b.gateOut, 0, f, maskRng());
            b.up.forward(rows, b.n2, 0, d, 0f, b.upOut, 0, f, maskRng());
            Activations.swigluForward(rows * f, b.gateOut, b.upOut, act, b.sigmoid);
            copy(b.h, xs[l + 1], rows * d);
            b.down.forward(rows, act, 0, f, 1f, xs[l + 1], 0, d, maskRng());
        }
        Norms.rmsNormForward(rows, d, xs[blocks.length], base.weight("model.norm.weight").data(), eps, hidden,
                rstdFinal);
    }

    @Override
    protected void backwardBlocks() {
        int d = c.hiddenSize();
        int f = c.intermediateSize();
        int w = qkvWidth();
        int qd = c.qDim();
        int kvd = c.kvDim();
        dx.put(0, new float[rows * d]);
        Norms.rmsNormBackward(rows, d, dHidden, xs[blocks.length], base.weight("model.norm.weight").data(),
                rstdFinal, dx, weightGrad("model.norm.weight"));
        for (int l = blocks.length - 1; l >= lowestTrainedBlock(); l--) {
            Block b = blocks[l];
            // MLP: dx holds the gradient at xs[l+1]; it passes unchanged to h through the residual
            if (b.down.backwardReadsInput()) {
                Activations.swigluFromSigmoid(rows * f, b.gateOut, b.upOut, b.sigmoid, act);
            }
            b.down.backward(rows, dx, 0, d, act, 0, f, 0f, dAct, 0, f);
            Activations.swigluBackward(rows * f, dAct, b.gateOut, b.upOut, b.sigmoid, dGate, dUp);
            b.gate.backward(rows, dGate, 0, f, b.n2, 0, d, 0f, dn, 0, d);
            b.up.backward(rows, dUp, 0, f, b.n2, 0, d, 1f, dn, 0, d);
            Norms.rmsNormBackward(rows, d, dn, b.h, b.w2, b.rstd2, dx, b.dw2);
            // attention: dx now holds the gradient at h
            b.o.backward(rows, dx, 0, d, b.attn, 0, qd, 0f, dAttn, 0, qd);
            Attention.attentionBackward(batchSize, seqLen, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(),
                    b.qkv, 0, w, b.qkv, qd, w, b.qkv, qd + kvd, w, b.probs, dAttn, 0, qd,
                    dqkv, 0, w, dqkv, qd, w, dqkv, qd + kvd, w, scores);
            rope.backward(rows, seqLen, c.numAttentionHeads() + c.numKeyValueHeads(), dqkv, 0, w);
            if (b.qNorm != null) {
                Norms.headRmsNormBackward(rows, c.numAttentionHeads(), c.headDim(), dqkv, 0, w, b.qRaw, b.qNorm,
                        b.qRstd, b.dqNorm);
                Norms.headRmsNormBackward(rows, c.numKeyValueHeads(), c.headDim(), dqkv, qd, w, b.kRaw, b.kNorm,
                        b.kRstd, b.dkNorm);
            }
            boolean needDx = needsInputGradient(l);
            FloatBuffer dnOrNull = needDx ? dn : null;
            b.qkvProj.backward(rows, dqkv, 0, w, b.n1, 0, d, dnOrNull, 0, d);
            if (needDx) {
                Norms.rmsNormBackward(rows, d, dn, xs[l], b.w1, b.rstd1, dx, b.dw1);
            }
        }
        if (trainsAllWeights()) {
            Embedding.embeddingBackward(rows, d, inputs, dx, weightGrad("model.embed_tokens.weight"));
        }
    }
}
