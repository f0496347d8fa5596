package io.sparklora.job;

import io.sparklora.tensor.Parameter;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter 2019, "Decoupled Weight Decay Regularization"), element for element as PyTorch's
 * {@code torch.optim.AdamW} (single-tensor path): {@code p ← p·(1 − lr·λ)}; {@code m ← β₁m + (1−β₁)g};
 * {@code v ← β₂v + (1−β₂)g²}; {@code p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)}.
 *
 * <p>Why a Java loop rather than ND4J's {@code org.nd4j.linalg.learning} updaters (1.0.0-M2.1): that package has no
 * AdamW; its {@code AdamUpdater} adds ε to √v before the bias correction (the paper's ε̂ form, not PyTorch's), and
 * decoupled decay would be a second pass through {@code regularization.WeightDecay}. Using it would also mean wrapping
 * our direct FloatBuffers as INDArrays and keeping m and v in ND4J's state view. One fused pass here reads g, p, m, v
 * once, scales the gradient (accumulation and clipping folded into one factor) and zeroes it for the next step, with
 * no allocation and a result that is bit-for-bit reproducible.
 *
 * <p>Weight decay skips 1-D tensors (biases, norm weights), as Hugging Face's Trainer does.
 */
public final class AdamW {
    private final List<Parameter> params;
    private final Tensor[] m; // first moments, each the shape of its parameter
    private final Tensor[] v; // second moments, each the shape of its parameter
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private long step; // updates taken so far (t of the bias correction)

    public AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.m = new Tensor[params.size()];
        this.v = new Tensor[params.size()];
        for (int i = 0; i < params.size(); i++) {
            int[] shape = params.get(i).value().shape();
            m[i] = Tensor.zeros(shape);
            v[i] = Tensor.zeros(shape);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /**
     * One update with learning rate {@code lr} from the gradients times {@code gradScale}; zeroes every gradient.
     */
    public void step(double lr, double gradScale) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float c1 = (float) (1 - beta1);
        float c2 = (float) (1 - beta2);
        float e = (float) eps;
        float scale = (float) gradScale;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            float decay = p.value().rank() > 1 ? (float) (1 - lr * weightDecay) : 1f;
            FloatBuffer w = p.value().data();
            FloatBuffer g = p.grad().data();
            FloatBuffer mb = m[i].data();
            FloatBuffer vb = v[i].data();
            for (int j = 0, n = w.capacity(); j < n; j++) {
                float gj = g.get(j) * scale;
                float mj = b1 * mb.get(j) + c1 * gj;
                float vj = b2 * vb.get(j) + c2 * gj * gj;
                mb.put(j, mj);
                vb.put(j, vj);
                g.put(j, 0f);
                float denom = (float) Math.sqrt(vj) / bc2Sqrt + e;
                w.put(j, w.get(j) * decay - stepSize * mj / denom);
            }
        }
    }

    /** Updates taken so far. */
    public long stepCount() {
        return step;
    }

    /** Restores the update count from a checkpoint (with {@link #firstMoment}/{@link #secondMoment} filled). */
    public void restoreStepCount(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("Invalid AdamW step " + step + ": must be >= 0");
        }
        this.step = step;
    }

    public List<Parameter> parameters() {
        return params;
    }

    /** m of parameter i (live, for checkpoints). */
    public Tensor firstMoment(int i) {
        return m[i];
    }

    /** v of parameter i (live, for checkpoints). */
    public Tensor secondMoment(int i) {
        return v[i];
    }

    /** The global L2 norm of all gradients (accumulated in double), for clipping by global norm. */
    public static double gradNorm(List<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) {
            FloatBuffer g = p.grad().data();
            for (int j = 0, n = g.capacity(); j < n; j++) {
                double x = g.get(j);
                sum += x * x;
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * The factor that clips a gradient of global norm {@code norm} to at most {@code maxNorm}, as PyTorch's
     * {@code clip_grad_norm_}: {@code min(1, maxNorm / (norm + 1e-6))}; 1 when {@code maxNorm} is 0 (no clipping).
     */
    public static double clipFactor(double norm, double maxNorm) {
        if (maxNorm <= 0) {
            return 1.0;
        }
        return Math.min(1.0, maxNorm / (norm + 1e-6));
    }
}
