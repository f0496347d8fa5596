package io.sparklora.infer;

import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.nn.Attention;
import io.sparklora.nn.Linear;
import io.sparklora.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Incremental (key/value-cached) inference over a frozen base for many sequences at once, each with its own LoRA
 * adapter: the batched multi-adapter LoRA of S-LoRA (Sheng et al. 2023) and Punica (Chen et al. 2023) on CPU. A step
 * takes {@link Segment}s — a whole prompt (prefill) or one new token (decode) per sequence — lays their rows out
 * grouped by adapter, runs every frozen GEMM once over all rows, and adds each group's LoRA update {@code s·(x·Aᵀ)·Bᵀ}
 * over its contiguous rows with the training kernels ({@link Linear#loraForward}). Attention reads each sequence's
 * {@link KvCache}. The numerics are the training forward's (same kernels, same order of operations per row).
 *
 * <p>Lifecycle: one decoder per base and thread; every buffer is allocated at construction for {@code maxRows} rows
 * and {@code context} positions, so steps allocate nothing but small heap scratch.
 */
public abstract class KvDecoder {
    protected final BaseModel base;
    protected final int context;
    protected final int maxRows;
    protected final int dim;
    private final int vocab;
    private final List<LinearModule> linears;
    private final FloatBuffer[] linearWeights; // per linear module: (out, in) or (in, out)
    private final FloatBuffer[] linearBiases; // per linear module: (out) or null

    protected int rows; // rows of the current step
    protected final int[] rowTokens; // (maxRows)
    protected final int[] rowPositions; // (maxRows)
    private final KvCache[] rowCache; // (maxRows)
    private Segment[] laid = new Segment[0]; // segments in row order (grouped by adapter)
    private int[] laidFirst = new int[0]; // first row of each laid-out segment
    private InferenceAdapter[] groupAdapter = new InferenceAdapter[0]; // per adapter group, null = base only
    private int[] groupFirst = new int[0]; // first row of each group
    private int[] groupRows = new int[0]; // rows of each group
    private int groups;
    private long loraRows; // rows over which a LoRA update ran, summed over linear layers and steps

    protected final FloatBuffer hidden; // (maxRows, dim) written by forwardRows: the final norm's output
    private final FloatBuffer headIn; // (maxRows, dim) rows whose logits are wanted
    private final FloatBuffer logits; // (maxRows, vocab)
    private final FloatBuffer scores; // (maxRows · context) attention scratch
    private FloatBuffer u; // (maxRows, uRank) LoRA scratch, widened when a higher-rank adapter comes
    private int uRank;
    private int[] logitRow = new int[0]; // per segment (caller order): first row in logits

    protected KvDecoder(BaseModel base, int context, int maxRows) {
        ModelConfig c = base.config();
        if (context < 1 || context > c.maxPositions()) {
            throw new IllegalArgumentException("Invalid context " + context + ": must be between 1 and the model's "
                    + "max positions " + c.maxPositions() + " (" + c.positionLimit() + ")");
        }
        if (maxRows < 1) {
            throw new IllegalArgumentException("Invalid maxRows " + maxRows + ": must be >= 1");
        }
        this.base = base;
        this.context = context;
        this.maxRows = maxRows;
        this.dim = c.hiddenSize();
        this.vocab = c.vocabSize();
        this.linears = c.linearModules();
        this.linearWeights = new FloatBuffer[linears.size()];
        this.linearBiases = new FloatBuffer[linears.size()];
        for (int i = 0; i < linears.size(); i++) {
            LinearModule m = linears.get(i);
            linearWeights[i] = base.weight(m.weightKey()).data();
            linearBiases[i] = m.hasBias() ? base.weight(m.biasKey()).data() : null;
        }
        this.rowTokens = new int[maxRows];
        this.rowPositions = new int[maxRows];
        this.rowCache = new KvCache[maxRows];
        this.hidden = Tensor.allocate(Math.multiplyExact(maxRows, dim));
        this.headIn = Tensor.allocate(Math.multiplyExact(maxRows, dim));
        this.logits = Tensor.allocate(Math.multiplyExact(maxRows, vocab));
        this.scores = Tensor.allocate(Math.multiplyExact(maxRows, context));
    }

    /** The decoder of the base's family; {@code context} ≤ max positions bounds every cache it makes. */
    public static KvDecoder create(BaseModel base, int context, int maxRows) {
        ModelConfig c = base.config();
        return c.fold(llama -> new LlamaKvDecoder(base, context, maxRows),
                gpt2 -> new Gpt2KvDecoder(base, context, maxRows));
    }

    public ModelConfig config() {
        return base.config();
    }

    public int context() {
        return context;
    }

    public int maxRows() {
        return maxRows;
    }

    /** A cache for one sequence of up to {@link #context()} positions. */
    public KvCache newCache() {
        return new KvCache(this, base.config().numLayers(), context, kvDim());
    }

    /** Width of one position's keys (and values) per layer. */
    protected abstract int kvDim();

    /** Embedding and blocks up to the final norm over rows 0..rows-1; writes {@link #hidden}. */
    protected abstract void forwardRows();

    /**
     * Runs one step: appends every segment's tokens to its cache and computes the logits its {@link Segment#logits()}
     * asks for, read with {@link #logits()} at {@link #logitRow(int)}. Segments must name distinct caches.
     */
    public void forward(List<Segment> segments) {
        layOut(segments);
        forwardRows();
        int n = 0;
        logitRow = new int[segments.size()];
        for (int s = 0; s < segments.size(); s++) {
            Segment seg = segments.get(s);
            int first = firstRowOf(seg);
            int from = seg.logits() == Segment.Logits.ALL ? first : first + seg.tokens().length - 1;
            int count = seg.logitRows();
            logitRow[s] = n;
            headIn.put(n * dim, hidden, from * dim, count * dim);
            n += count;
        }
        Linear.linearForward(n, dim, vocab, headIn, 0, dim, base.lmHead().data(), WeightLayout.OUT_IN, null, 0f,
                logits, 0, vocab);
        for (Segment seg : segments) {
            seg.cache().length += seg.tokens().length;
        }
    }

    /**
     * Rows over which a LoRA update {@code s·(x·Aᵀ)·Bᵀ} ran, summed over every linear layer of every step: zero for a
     * decoder that only ever saw segments without an adapter (a merged base runs the base's path and nothing else).
     */
    public long loraRows() {
        return loraRows;
    }

    /** (rows, vocab) logits of the last step; segment s's rows start at {@link #logitRow(int)}. */
    public FloatBuffer logits() {
        return logits;
    }

    /** The first logits row of segment s (in the order given to {@link #forward}). */
    public int logitRow(int s) {
        return logitRow[s];
    }

    /** Copies the logits at {@code row} into out (vocab). */
    public void copyLogits(int row, float[] out) {
        logits.get(row * vocab, out, 0, vocab);
    }

    private int firstRowOf(Segment seg) {
        for (int i = 0; i < laid.length; i++) {
            if (laid[i] == seg) {
                return laidFirst[i];
            }
        }
        throw new IllegalStateException("segment not laid out");
    }

    /** Checks the segments and lays their rows out, grouped by adapter (first-seen order, stable within a group). */
    private void layOut(List<Segment> segments) {
        Map<InferenceAdapter, Integer> groupOf = new IdentityHashMap<>();
        Map<KvCache, Boolean> seen = new IdentityHashMap<>();
        int total = 0;
        for (Segment s : segments) {
            if (s.cache().owner != this) {
                throw new IllegalArgumentException("Cannot decode: a segment's cache was made by another decoder");
            }
            if (seen.put(s.cache(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("Cannot decode: two segments share one cache");
            }
            if (s.cache().length + s.tokens().length > context) {
                throw new IllegalArgumentException("Cannot decode: " + (s.cache().length + s.tokens().length)
                        + " positions exceed the context of " + context);
            }
            for (int t : s.tokens()) {
                if (t < 0 || t >= vocab) {
                    throw new IllegalArgumentException("Cannot decode token " + t + ": outside the vocabulary of "
                            + vocab);
                }
            }
            total += s.tokens().length;
            groupOf.putIfAbsent(s.adapter(), groupOf.size());
        }
        if (total > maxRows) {
            throw new IllegalArgumentException("Cannot decode: " + total + " rows exceed the decoder's " + maxRows);
        }
        int g = groupOf.size();
        laid = new Segment[segments.size()];
        laidFirst = new int[segments.size()];
        groupAdapter = new InferenceAdapter[g];
        groupFirst = new int[g];
        groupRows = new int[g];
        groupOf.forEach((a, i) -> groupAdapter[i] = a);
        int row = 0;
        int k = 0;
        for (int gi = 0; gi < g; gi++) {
            groupFirst[gi] = row;
            for (Segment s : segments) {
                if (groupOf.get(s.adapter()) != gi) {
                    continue;
                }
                laid[k] = s;
                laidFirst[k++] = row;
                for (int t = 0; t < s.tokens().length; t++) {
                    rowTokens[row] = s.tokens()[t];
                    rowPositions[row] = s.cache().length + t;
                    rowCache[row++] = s.cache();
                }
            }
            groupRows[gi] = row - groupFirst[gi];
            if (groupAdapter[gi] != null && groupAdapter[gi].maxRank() > uRank) {
                uRank = groupAdapter[gi].maxRank();
                u = Tensor.allocate(Math.multiplyExact(maxRows, uRank));
            }
        }
        groups = g;
        rows = total;
    }

    /**
     * Linear layer {@code index} (in {@link ModelConfig#linearModules()} order) over all rows, {@code y = x·W' + b +
     * beta·y}: the frozen GEMM once, then each adapter group's LoRA update over its own rows.
     */
    protected void linear(int index, FloatBuffer x, int xOff, int ldx, float beta, FloatBuffer y, int yOff,
                          int ldy) {
        LinearModule m = linears.get(index);
        Linear.linearForward(rows, m.inFeatures(), m.outFeatures(), x, xOff, ldx, linearWeights[index], m.layout(),
                linearBiases[index], beta, y, yOff, ldy);
        for (int g = 0; g < groups; g++) {
            LoraModule lora = groupAdapter[g] == null ? null : groupAdapter[g].module(index);
            if (lora == null) {
                continue;
            }
            int r0 = groupFirst[g];
            Linear.loraForward(groupRows[g], m.inFeatures(), m.outFeatures(), lora.rank(), lora.scaling(), x,
                    xOff + r0 * ldx, ldx, lora.loraA().value().data(), lora.loraB().value().data(), u, y,
                    yOff + r0 * ldy, ldy);
            loraRows += groupRows[g];
        }
    }

    /** Writes every row's keys and values of {@code layer} (read at kOff and vOff of a (rows, ld) buffer). */
    protected void appendKv(int layer, FloatBuffer src, int kOff, int vOff, int ld) {
        int w = kvDim();
        for (int r = 0; r < rows; r++) {
            int at = rowPositions[r] * w;
            rowCache[r].keys[layer].put(at, src, r * ld + kOff, w);
            rowCache[r].values[layer].put(at, src, r * ld + vOff, w);
        }
    }

    /** Attention of every row over its sequence's cache in {@code layer}; q at qOff of (rows, ldq), out (rows, ldo). */
    protected void attend(int layer, int heads, int kvHeads, int headDim, FloatBuffer q, int qOff, int ldq,
                          FloatBuffer out, int ldo) {
        int w = kvDim();
        for (int i = 0; i < laid.length; i++) {
            Segment s = laid[i];
            int r0 = laidFirst[i];
            Attention.cachedAttentionForward(s.tokens().length, s.cache().length, heads, kvHeads, headDim, q,
                    qOff + r0 * ldq, ldq, s.cache().keys[layer], s.cache().values[layer], w, scores, out, r0 * ldo,
                    ldo);
        }
    }

    /** Index of the linear module at {@code path} (wiring by name, not position). */
    protected int linearIndex(String path) {
        for (int i = 0; i < linears.size(); i++) {
            if (linears.get(i).path().equals(path)) {
                return i;
            }
        }
        throw new IllegalArgumentException("Cannot find linear module " + path + " in the "
                + base.config().modelType() + " base");
    }
}
