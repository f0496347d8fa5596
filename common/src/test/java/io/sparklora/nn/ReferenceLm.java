package io.sparklora.nn;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Batch;
import io.sparklora.model.Gpt2Config;
import io.sparklora.model.LinearModule;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.tensor.Tensor;
import java.util.List;

/**
 * An independent, deliberately naive double-precision transcription of Hugging Face's {@code LlamaForCausalLM} and
 * {@code GPT2LMHeadModel} forward passes (eager attention, LoRA as PEFT adds it, no dropout): one position and one
 * head at a time, no BLAS, no shared code with the kernels under test.
 */
final class ReferenceLm {
    private ReferenceLm() {
    }

    /** (rows, vocab) logits. */
    static double[][] logits(BaseModel base, LoraAdapter adapter, Batch batch) {
        return base.config() instanceof LlamaConfig ? llama(base, adapter, batch) : gpt2(base, adapter, batch);
    }

    /** Mean cross-entropy over non-ignored targets. */
    static double loss(double[][] logits, int[] targets) {
        double total = 0;
        int n = 0;
        for (int r = 0; r < logits.length; r++) {
            if (targets[r] == Batch.IGNORE) {
                continue;
            }
            double s = 0;
            for (double v : logits[r]) {
                s += Math.exp(v);
            }
            total += Math.log(s) - logits[r][targets[r]];
            n++;
        }
        return total / n;
    }

    private static double[][] llama(BaseModel base, LoraAdapter adapter, Batch batch) {
        LlamaConfig c = (LlamaConfig) base.config();
        int rows = batch.rows(), d = c.hiddenSize(), hd = c.headDim();
        double[][] x = new double[rows][];
        for (int r = 0; r < rows; r++) {
            x[r] = row(base.weight("model.embed_tokens.weight"), batch.inputs()[r]);
        }
        List<LinearModule> lin = c.linearModules();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] n1 = rms(x, base.weight(p + "input_layernorm.weight"), c.rmsNormEps());
            double[][] q = linear(base, adapter, lin.get(7 * l), n1);
            double[][] k = linear(base, adapter, lin.get(7 * l + 1), n1);
            double[][] v = linear(base, adapter, lin.get(7 * l + 2), n1);
            rope(q, batch.seqLen(), hd, c.ropeTheta());
            rope(k, batch.seqLen(), hd, c.ropeTheta());
            double[][] a = attention(q, k, v, batch, c.numAttentionHeads(), c.numKeyValueHeads(), hd);
            double[][] h = add(x, linear(base, adapter, lin.get(7 * l + 3), a));
            double[][] n2 = rms(h, base.weight(p + "post_attention_layernorm.weight"), c.rmsNormEps());
            double[][] g = linear(base, adapter, lin.get(7 * l + 4), n2);
            double[][] u = linear(base, adapter, lin.get(7 * l + 5), n2);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < g[r].length; j++) {
                    g[r][j] = g[r][j] / (1 + Math.exp(-g[r][j])) * u[r][j];
                }
            }
            x = add(h, linear(base, adapter, lin.get(7 * l + 6), g));
        }
        return head(rms(x, base.weight("model.norm.weight"), c.rmsNormEps()), base.lmHead(), d);
    }

    private static double[][] gpt2(BaseModel base, LoraAdapter adapter, Batch batch) {
        Gpt2Config c = (Gpt2Config) base.config();
        String pre = Gpt2Config.PREFIX;
        int rows = batch.rows(), d = c.hiddenSize();
        double[][] x = new double[rows][];
        for (int r = 0; r < rows; r++) {
            x[r] = add(row(base.weight(pre + "wte.weight"), batch.inputs()[r]),
                    row(base.weight(pre + "wpe.weight"), r % batch.seqLen()));
        }
        List<LinearModule> lin = c.linearModules();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = pre + "h." + l + ".";
            double[][] n1 = layerNorm(x, base.weight(p + "ln_1.weight"), base.weight(p + "ln_1.bias"),
                    c.layerNormEpsilon());
            double[][] qkv = linear(base, adapter, lin.get(4 * l), n1);
            double[][] q = new double[rows][d], k = new double[rows][d], v = new double[rows][d];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(qkv[r], 0, q[r], 0, d);
                System.arraycopy(qkv[r], d, k[r], 0, d);
                System.arraycopy(qkv[r], 2 * d, v[r], 0, d);
            }
            double[][] a = attention(q, k, v, batch, c.numHeads(), c.numHeads(), c.headDim());
            double[][] h = add(x, linear(base, adapter, lin.get(4 * l + 1), a));
            double[][] n2 = layerNorm(h, base.weight(p + "ln_2.weight"), base.weight(p + "ln_2.bias"),
                    c.layerNormEpsilon());
            double[][] f = linear(base, adapter, lin.get(4 * l + 2), n2);
            for (double[] fr : f) {
                for (int j = 0; j < fr.length; j++) {
                    double z = fr[j];
                    fr[j] = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
                }
            }
            x = add(h, linear(base, adapter, lin.get(4 * l + 3), f));
        }
        double[][] nf = layerNorm(x, base.weight(pre + "ln_f.weight"), base.weight(pre + "ln_f.bias"),
                c.layerNormEpsilon());
        return head(nf, base.lmHead(), d);
    }

    private static double[] row(Tensor t, int r) {
        int cols = t.dim(1);
        double[] out = new double[cols];
        for (int j = 0; j < cols; j++) {
            out[j] = t.get(r * cols + j);
        }
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        double[] out = a.clone();
        for (int j = 0; j < a.length; j++) {
            out[j] += b[j];
        }
        return out;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][];
        for (int r = 0; r < a.length; r++) {
            out[r] = add(a[r], b[r]);
        }
        return out;
    }

    /** nn.Linear / Conv1D plus PEFT's LoRA term s·B·(A·x). */
    private static double[][] linear(BaseModel base, LoraAdapter adapter, LinearModule m, double[][] x) {
        Tensor w = base.weight(m.weightKey());
        int in = m.inFeatures(), out = m.outFeatures();
        LoraModule lora = adapter == null ? null : adapter.module(m.path());
        double[][] y = new double[x.length][out];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < out; o++) {
                double s = m.hasBias() ? base.weight(m.biasKey()).get(o) : 0;
                for (int i = 0; i < in; i++) {
                    s += x[r][i] * (m.layout() == WeightLayout.OUT_IN ? w.get(o * in + i) : w.get(i * out + o));
                }
                y[r][o] = s;
            }
            if (lora != null) {
                int rank = lora.rank();
                double[] ax = new double[rank];
                for (int q = 0; q < rank; q++) {
                    for (int i = 0; i < in; i++) {
                        ax[q] += lora.loraA().value().get(q * in + i) * x[r][i];
                    }
                }
                for (int o = 0; o < out; o++) {
                    for (int q = 0; q < rank; q++) {
                        y[r][o] += lora.scaling() * lora.loraB().value().get(o * rank + q) * ax[q];
                    }
                }
            }
        }
        return y;
    }

    private static double[][] rms(double[][] x, Tensor w, double eps) {
        double[][] y = new double[x.length][];
        for (int r = 0; r < x.length; r++) {
            double ss = 0;
            for (double v : x[r]) {
                ss += v * v;
            }
            double inv = 1 / Math.sqrt(ss / x[r].length + eps);
            y[r] = new double[x[r].length];
            for (int j = 0; j < x[r].length; j++) {
                y[r][j] = w.get(j) * x[r][j] * inv;
            }
        }
        return y;
    }

    private static double[][] layerNorm(double[][] x, Tensor w, Tensor b, double eps) {
        double[][] y = new double[x.length][];
        for (int r = 0; r < x.length; r++) {
            int n = x[r].length;
            double mu = 0, var = 0;
            for (double v : x[r]) {
                mu += v / n;
            }
            for (double v : x[r]) {
                var += (v - mu) * (v - mu) / n;
            }
            y[r] = new double[n];
            for (int j = 0; j < n; j++) {
                y[r][j] = (x[r][j] - mu) / Math.sqrt(var + eps) * w.get(j) + b.get(j);
            }
        }
        return y;
    }

    /** HF rotate_half: q·cos + rotate_half(q)·sin with rotate_half(x) = cat(−x2, x1), per head, position r mod seq. */
    private static void rope(double[][] x, int seq, int hd, double theta) {
        int half = hd / 2;
        for (int r = 0; r < x.length; r++) {
            int t = r % seq;
            for (int h = 0; h < x[r].length / hd; h++) {
                for (int i = 0; i < half; i++) {
                    double angle = t * Math.pow(theta, -2.0 * i / hd);
                    double a = x[r][h * hd + i], b = x[r][h * hd + i + half];
                    x[r][h * hd + i] = a * Math.cos(angle) - b * Math.sin(angle);
                    x[r][h * hd + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
                }
            }
        }
    }

    private static double[][] attention(double[][] q, double[][] k, double[][] v, Batch batch, int heads, int kvHeads,
                                        int hd) {
        int seq = batch.seqLen();
        double[][] out = new double[q.length][heads * hd];
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int h = 0; h < heads; h++) {
                int kh = h / (heads / kvHeads);
                for (int t = 0; t < seq; t++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) {
                            s[j] += q[b * seq + t][h * hd + i] * k[b * seq + j][kh * hd + i];
                        }
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        z += s[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) {
                            out[b * seq + t][h * hd + i] += s[j] / z * v[b * seq + j][kh * hd + i];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static double[][] head(double[][] x, Tensor w, int d) {
        int vocab = w.dim(0);
        double[][] y = new double[x.length][vocab];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < vocab; o++) {
                for (int i = 0; i < d; i++) {
                    y[r][o] += x[r][i] * w.get(o * d + i);
                }
            }
        }
        return y;
    }
}
