package io.sparklora.reference;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.RopeScaling;
import io.sparklora.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An independent reference for the forward pass of Hugging Face's {@code LlamaForCausalLM}, {@code MistralForCausalLM},
 * {@code Qwen2ForCausalLM}, {@code Qwen3ForCausalLM} and {@code GPT2LMHeadModel} with PEFT's {@code lora.Linear},
 * written from the definitions in transformers' {@code modeling_llama.py}, {@code modeling_mistral.py},
 * {@code modeling_qwen2.py}, {@code modeling_qwen3.py}, {@code modeling_gpt2.py} and {@code modeling_rope_utils.py}
 * and PEFT's {@code tuners/lora/layer.py}: plain double-precision loops over one sequence, no
 * BLAS and no code shared with the fast models, weights read only by their Hugging Face keys. Slow on purpose; it is
 * what the fast models and {@code score} are checked against.
 */
public final class HfReference {
    private HfReference() {
    }

    /**
     * The LoRA update of one linear layer, as PEFT applies it: {@code y = base(x) + scaling · (x·Aᵀ)·Bᵀ}. A and B have
     * these shapes for Conv1D layers too: PEFT's {@code fan_in_fan_out} only transposes the base weight.
     *
     * @param a       (rank, in)
     * @param b       (out, rank)
     * @param scaling alpha / rank (or alpha / √rank with rsLoRA)
     */
    public record Lora(double[][] a, double[][] b, double scaling) {
        public Lora {
            if (a.length == 0 || b.length == 0 || b[0].length != a.length) {
                throw new IllegalArgumentException("Invalid LoRA pair: A has " + a.length + " rows, B has "
                        + (b.length == 0 ? 0 : b[0].length) + " columns; both must equal the rank");
            }
        }
    }

    /** The reference's view of an adapter: module path → its A, B and scaling, read from the float tensors. */
    public static Map<String, Lora> fromAdapter(LoraAdapter adapter) {
        Map<String, Lora> out = new LinkedHashMap<>();
        for (LoraModule m : adapter.modules().values()) {
            out.put(m.target().path(), new Lora(matrix(m.loraA().value()), matrix(m.loraB().value()), m.scaling()));
        }
        return out;
    }

    /**
     * (tokens, vocab) logits of one sequence; {@code lora} may be null or empty for the base model. Fails when a LoRA
     * path names no linear layer of the model, so a misspelt path cannot silently score the base model.
     */
    public static double[][] logits(BaseModel base, Map<String, Lora> lora, int[] tokens) {
        if (tokens.length > base.config().maxPositions()) {
            throw new IllegalArgumentException("Cannot run the reference: " + tokens.length
                    + " tokens exceed the model's " + base.config().maxPositions() + " positions");
        }
        for (int t : tokens) {
            if (t < 0 || t >= base.config().vocabSize()) {
                throw new IllegalArgumentException("Cannot run the reference: token id " + t
                        + " is outside the vocabulary of " + base.config().vocabSize());
            }
        }
        Forward f = new Forward(base, lora == null ? Map.of() : lora);
        double[][] out;
        if (base.config() instanceof LlamaConfig c) {
            out = f.llama(c, tokens);
        } else {
            out = f.gpt2((Gpt2Config) base.config(), tokens);
        }
        Set<String> unused = new HashSet<>(f.lora.keySet());
        unused.removeAll(f.usedLora);
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("Cannot apply LoRA: no linear layer at " + unused);
        }
        return out;
    }

    /** Mean cross-entropy (natural log) over the positions whose target is not -100; 0 when there are none. */
    public static double meanLoss(double[][] logits, int[] targets) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] != -100) {
                sum += crossEntropy(logits[i], targets[i]);
                count++;
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    /** Mean loss of one sequence predicting {@code targets} (−100 where nothing is predicted). */
    public static double meanLoss(BaseModel base, Map<String, Lora> lora, int[] tokens, int[] targets) {
        return meanLoss(logits(base, lora, tokens), targets);
    }

    /** What the reference scorer reports. */
    public record Score(long tokensScored, double meanLoss) {
    }

    /**
     * The {@code score} rule, one window at a time: consecutive non-overlapping windows of {@code seqLen} tokens (the
     * last may be shorter); a window of length L ≥ 2 predicts its tokens 1..L−1 from their prefix inside the window.
     */
    public static Score score(BaseModel base, Map<String, Lora> lora, int[] stream, int seqLen) {
        double sum = 0;
        long count = 0;
        for (int start = 0; start < stream.length; start += seqLen) {
            int[] window = Arrays.copyOfRange(stream, start, Math.min(stream.length, start + seqLen));
            if (window.length < 2) {
                continue;
            }
            double[][] logits = logits(base, lora, window);
            for (int i = 0; i + 1 < window.length; i++) {
                sum += crossEntropy(logits[i], window[i + 1]);
                count++;
            }
        }
        return new Score(count, sum / count);
    }

    static double crossEntropy(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) {
            max = Math.max(max, z);
        }
        double s = 0;
        for (double z : logits) {
            s += Math.exp(z - max);
        }
        return max + Math.log(s) - logits[target];
    }

    /** LlamaRMSNorm: x / sqrt(mean(x²) + eps) · weight. */
    static double[] rmsNorm(double[] x, double[] weight, double eps) {
        double ms = 0;
        for (double v : x) {
            ms += v * v;
        }
        double inv = 1 / Math.sqrt(ms / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * inv * weight[i];
        }
        return y;
    }

    /** torch.nn.LayerNorm with the biased variance. */
    static double[] layerNorm(double[] x, double[] weight, double[] bias, double eps) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        double inv = 1 / Math.sqrt(var / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (x[i] - mean) * inv * weight[i] + bias[i];
        }
        return y;
    }

    /**
     * The rotary inverse frequencies of modeling_rope_utils.py in double: {@code θ^(−2i/d)} for i < d/2, then
     * {@code linear}: ÷ factor; {@code llama3}: wavelengths 2π/f above original_max / low_freq_factor ÷ factor, below
     * original_max / high_freq_factor kept, and between them {@code (1−s)·f/factor + s·f} with
     * {@code s = (original_max / wavelen − low) / (high − low)}.
     */
    static double[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
        double[] inv = new double[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            double f = Math.pow(theta, -2.0 * i / headDim);
            switch (scaling.type()) {
                case DEFAULT -> {
                }
                case LINEAR -> f /= scaling.factor();
                case LLAMA3 -> {
                    double old = scaling.originalMaxPositions();
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen > old / scaling.lowFreqFactor()) {
                        f /= scaling.factor();
                    } else if (wavelen >= old / scaling.highFreqFactor()) {
                        double s = (old / wavelen - scaling.lowFreqFactor())
                                / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                        f = (1 - s) * f / scaling.factor() + s * f;
                    }
                }
            }
            inv[i] = f;
        }
        return inv;
    }

    /** {@link #rope(double[], int, int, int, double[])} with plain frequencies θ^(−2i/d). */
    static void rope(double[] x, int off, int headDim, int position, double theta) {
        rope(x, off, headDim, position, inverseFrequencies(headDim, theta, RopeScaling.NONE));
    }

    /**
     * HF's rotary embedding of one head vector {@code x[off .. off+headDim)} at {@code position}, in place: the angle
     * position·inv_freq_i repeated for both halves ({@code cat(freqs, freqs)}), and
     * {@code x·cos + rotate_half(x)·sin} with {@code rotate_half(x) = cat(−x2, x1)} — halves, not interleaved pairs.
     */
    static void rope(double[] x, int off, int headDim, int position, double[] invFreq) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * invFreq[i];
            double cos = Math.cos(angle);
            double sin = Math.sin(angle);
            double x1 = x[off + i];
            double x2 = x[off + half + i];
            x[off + i] = x1 * cos - x2 * sin;
            x[off + half + i] = x2 * cos + x1 * sin;
        }
    }

    /** transformers' NewGELUActivation ("gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    static double geluNew(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** SiLU, LLaMA's hidden_act: x·σ(x). */
    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /**
     * Causal scaled dot-product attention of one sequence, eager style: head h reads key/value head
     * h / (heads / kvHeads) (repeat_kv), scores scaled by 1/√headDim, masked above the diagonal, softmax in double.
     *
     * @param q (L, heads·headDim), k and v (L, kvHeads·headDim); returns (L, heads·headDim)
     */
    static double[][] attention(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int headDim) {
        return attention(q, k, v, heads, kvHeads, headDim, 0);
    }

    /**
     * As above with Mistral's sliding window (0: none): query i also masks keys j ≤ i − window, as transformers'
     * {@code sliding_window_causal_mask} ({@code q_idx − kv_idx < sliding_window}).
     */
    static double[][] attention(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int headDim,
                                int window) {
        int len = q.length;
        int group = heads / kvHeads;
        double scale = 1 / Math.sqrt(headDim);
        double[][] out = new double[len][heads * headDim];
        double[] p = new double[len];
        for (int h = 0; h < heads; h++) {
            int qo = h * headDim;
            int kvo = (h / group) * headDim;
            for (int i = 0; i < len; i++) {
                double max = Double.NEGATIVE_INFINITY;
                int first = window > 0 ? Math.max(0, i - window + 1) : 0;
                for (int j = 0; j < first; j++) {
                    p[j] = 0;
                }
                for (int j = first; j <= i; j++) {
                    double s = 0;
                    for (int d = 0; d < headDim; d++) {
                        s += q[i][qo + d] * k[j][kvo + d];
                    }
                    p[j] = s * scale;
                    max = Math.max(max, p[j]);
                }
                double z = 0;
                for (int j = first; j <= i; j++) {
                    p[j] = Math.exp(p[j] - max);
                    z += p[j];
                }
                for (int j = first; j <= i; j++) {
                    double w = p[j] / z;
                    for (int d = 0; d < headDim; d++) {
                        out[i][qo + d] += w * v[j][kvo + d];
                    }
                }
            }
        }
        return out;
    }

    static double[][] matrix(Tensor t) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException("Cannot read a matrix from a tensor of shape "
                    + Arrays.toString(t.shape()));
        }
        int rows = t.dim(0);
        int cols = t.dim(1);
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r][c] = t.get(r * cols + c);
            }
        }
        return m;
    }

    static double[] vector(Tensor t) {
        double[] v = new double[t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.get(i);
        }
        return v;
    }

    /** One forward pass over one sequence; remembers which LoRA modules it applied. */
    private static final class Forward {
        private final BaseModel base;
        private final Map<String, Lora> lora;
        private final Set<String> usedLora = new HashSet<>();

        Forward(BaseModel base, Map<String, Lora> lora) {
            this.base = base;
            this.lora = lora;
        }

        private double[][] w(String key) {
            return matrix(base.weight(key));
        }

        private double[] vec(String key) {
            return vector(base.weight(key));
        }

        /**
         * A linear layer at {@code path} with its LoRA update: torch.nn.Linear stores W (out, in) and computes x·Wᵀ;
         * GPT-2's Conv1D stores W (in, out) and computes x·W.
         */
        private double[][] linear(double[][] x, String path, boolean conv1d, boolean bias) {
            double[][] weight = w(path + ".weight");
            int out = conv1d ? weight[0].length : weight.length;
            int in = conv1d ? weight.length : weight[0].length;
            double[] b = bias ? vec(path + ".bias") : new double[out];
            double[][] y = new double[x.length][out];
            for (int t = 0; t < x.length; t++) {
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int i = 0; i < in; i++) {
                        s += x[t][i] * (conv1d ? weight[i][o] : weight[o][i]);
                    }
                    y[t][o] = s;
                }
            }
            Lora l = lora.get(path);
            if (l != null) {
                usedLora.add(path);
                int rank = l.a().length;
                for (int t = 0; t < x.length; t++) {
                    double[] ax = new double[rank]; // (rank)
                    for (int r = 0; r < rank; r++) {
                        for (int i = 0; i < in; i++) {
                            ax[r] += l.a()[r][i] * x[t][i];
                        }
                    }
                    for (int o = 0; o < out; o++) {
                        double s = 0;
                        for (int r = 0; r < rank; r++) {
                            s += l.b()[o][r] * ax[r];
                        }
                        y[t][o] += l.scaling() * s;
                    }
                }
            }
            return y;
        }

        /** (L, vocab) logits: h · headᵀ for head (vocab, hidden). */
        private static double[][] head(double[][] h, double[][] head) {
            double[][] logits = new double[h.length][head.length];
            for (int t = 0; t < h.length; t++) {
                for (int v = 0; v < head.length; v++) {
                    double s = 0;
                    for (int i = 0; i < h[t].length; i++) {
                        s += h[t][i] * head[v][i];
                    }
                    logits[t][v] = s;
                }
            }
            return logits;
        }

        private static void addInto(double[][] h, double[][] delta) {
            for (int t = 0; t < h.length; t++) {
                for (int i = 0; i < h[t].length; i++) {
                    h[t][i] += delta[t][i];
                }
            }
        }

        /**
         * The LLaMA block and its relatives, each detail as its modeling file defines it: Qwen2's q/k/v projections
         * always carry biases (o_proj none); Qwen3 applies {@code Qwen3RMSNorm(head_dim)} to every head of q and k
         * before RoPE; Mistral masks beyond its sliding window.
         */
        double[][] llama(LlamaConfig c, int[] tokens) {
            String type = c.modelType();
            boolean qkvBias = type.equals("qwen2") || c.attentionBias();
            boolean qkNorm = type.equals("qwen3");
            double[] invFreq = inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
            int len = tokens.length;
            double[][] embed = w("model.embed_tokens.weight");
            double[][] h = new double[len][];
            for (int t = 0; t < len; t++) {
                h[t] = embed[tokens[t]].clone();
            }
            int hd = c.headDim();
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                String p = "model.layers." + l + ".";
                double[] norm1 = vec(p + "input_layernorm.weight");
                double[][] x = new double[len][];
                for (int t = 0; t < len; t++) {
                    x[t] = rmsNorm(h[t], norm1, c.rmsNormEps());
                }
                double[][] q = linear(x, p + "self_attn.q_proj", false, qkvBias);
                double[][] k = linear(x, p + "self_attn.k_proj", false, qkvBias);
                double[][] v = linear(x, p + "self_attn.v_proj", false, qkvBias);
                double[] qNorm = qkNorm ? vec(p + "self_attn.q_norm.weight") : null;
                double[] kNorm = qkNorm ? vec(p + "self_attn.k_norm.weight") : null;
                for (int t = 0; t < len; t++) {
                    for (int head = 0; head < c.numAttentionHeads(); head++) {
                        if (qkNorm) {
                            headNorm(q[t], head * hd, hd, qNorm, c.rmsNormEps());
                        }
                        rope(q[t], head * hd, hd, t, invFreq);
                    }
                    for (int head = 0; head < c.numKeyValueHeads(); head++) {
                        if (qkNorm) {
                            headNorm(k[t], head * hd, hd, kNorm, c.rmsNormEps());
                        }
                        rope(k[t], head * hd, hd, t, invFreq);
                    }
                }
                double[][] a = attention(q, k, v, c.numAttentionHeads(), c.numKeyValueHeads(), hd,
                        c.slidingWindow());
                addInto(h, linear(a, p + "self_attn.o_proj", false, c.attentionBias()));

                double[] norm2 = vec(p + "post_attention_layernorm.weight");
                for (int t = 0; t < len; t++) {
                    x[t] = rmsNorm(h[t], norm2, c.rmsNormEps());
                }
                double[][] gate = linear(x, p + "mlp.gate_proj", false, c.mlpBias());
                double[][] up = linear(x, p + "mlp.up_proj", false, c.mlpBias());
                for (int t = 0; t < len; t++) {
                    for (int i = 0; i < gate[t].length; i++) {
                        gate[t][i] = silu(gate[t][i]) * up[t][i];
                    }
                }
                addInto(h, linear(gate, p + "mlp.down_proj", false, c.mlpBias()));
            }
            double[] normF = vec("model.norm.weight");
            for (int t = 0; t < len; t++) {
                h[t] = rmsNorm(h[t], normF, c.rmsNormEps());
            }
            return head(h, c.tieWordEmbeddings() ? embed : w("lm_head.weight"));
        }

        /** RMSNorm of one head vector x[off .. off+headDim), in place. */
        private static void headNorm(double[] x, int off, int headDim, double[] weight, double eps) {
            double[] y = rmsNorm(Arrays.copyOfRange(x, off, off + headDim), weight, eps);
            System.arraycopy(y, 0, x, off, headDim);
        }

        double[][] gpt2(Gpt2Config c, int[] tokens) {
            int len = tokens.length;
            int dim = c.hiddenSize();
            String pre = Gpt2Config.PREFIX;
            double[][] wte = w(pre + "wte.weight");
            double[][] wpe = w(pre + "wpe.weight");
            double[][] h = new double[len][dim];
            for (int t = 0; t < len; t++) {
                for (int i = 0; i < dim; i++) {
                    h[t][i] = wte[tokens[t]][i] + wpe[t][i];
                }
            }
            double eps = c.layerNormEpsilon();
            for (int l = 0; l < c.numLayers(); l++) {
                String p = pre + "h." + l + ".";
                double[] w1 = vec(p + "ln_1.weight");
                double[] b1 = vec(p + "ln_1.bias");
                double[][] x = new double[len][];
                for (int t = 0; t < len; t++) {
                    x[t] = layerNorm(h[t], w1, b1, eps);
                }
                double[][] qkv = linear(x, p + "attn.c_attn", true, true); // (L, 3·dim): q | k | v
                double[][] q = new double[len][];
                double[][] k = new double[len][];
                double[][] v = new double[len][];
                for (int t = 0; t < len; t++) {
                    q[t] = Arrays.copyOfRange(qkv[t], 0, dim);
                    k[t] = Arrays.copyOfRange(qkv[t], dim, 2 * dim);
                    v[t] = Arrays.copyOfRange(qkv[t], 2 * dim, 3 * dim);
                }
                double[][] a = attention(q, k, v, c.numHeads(), c.numHeads(), c.headDim());
                addInto(h, linear(a, p + "attn.c_proj", true, true));

                double[] w2 = vec(p + "ln_2.weight");
                double[] b2 = vec(p + "ln_2.bias");
                for (int t = 0; t < len; t++) {
                    x[t] = layerNorm(h[t], w2, b2, eps);
                }
                double[][] fc = linear(x, p + "mlp.c_fc", true, true);
                for (double[] row : fc) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = geluNew(row[i]);
                    }
                }
                addInto(h, linear(fc, p + "mlp.c_proj", true, true));
            }
            double[] wf = vec(pre + "ln_f.weight");
            double[] bf = vec(pre + "ln_f.bias");
            for (int t = 0; t < len; t++) {
                h[t] = layerNorm(h[t], wf, bf, eps);
            }
            return head(h, wte);
        }
    }
}
