package io.sparklora.driver;

import io.sparklora.job.PackedData;
import io.sparklora.job.TrainSpec;
import io.sparklora.job.Window;
import io.sparklora.job.WindowFile;
import io.sparklora.job.WindowPacker;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.Tokenizer;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The windows a training task packs from rows that arrive in content order ({@link TrainRow#ORDER}, by the stage's
 * external sort, {@link AdapterBins#stage}): every task that trains — an adapter of {@code train}, {@code --rank auto}
 * and {@code sweep}, a model of {@code --full}, a node of {@code --tree} — packs through here. Each row is encoded and
 * packed as it arrives, so the heap never holds the rows: the windows stay in the heap, or, for more rows than
 * {@code --spill-rows} ({@link TrainJobSpec#spillRows}), go as they fill into a spill file on the executor's local
 * disk ({@link WindowFile}), read in every pass; then the heap holds one window and one int per window. The stages
 * that read what training packed, {@code eval} ({@link EvalTask}) and the router's fit ({@link RouterTask}), pack
 * through here too, from the same sorted shuffle ({@link AdapterBins#sorted}). Both give the same windows and
 * held-out split as {@link AdapterTask#pack} of the same rows. Close it when training is done: that closes and deletes the spill files, which a task-completion listener
 * also deletes should the task fail first.
 */
final class KeyWindows implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger("io.sparklora.progress");
    /** {@code data.windows_in} of training.json: where the task kept the windows. */
    static final String MEMORY = "memory";
    static final String SPILL_FILE = "spill file";
    /** The name of a spill file outside Spark starts with this. */
    static final String SPILL_PREFIX = "spark-lora-windows-";

    private final AdapterTask.Packed packed;
    private final List<WindowPacker.SpilledWindows> open; // the spill files read from, closed by close()
    private final List<Path> files; // deleted by close()

    private KeyWindows(AdapterTask.Packed packed, List<WindowPacker.SpilledWindows> open, List<Path> files) {
        this.packed = packed;
        this.open = open;
        this.files = files;
    }

    /**
     * Whether {@code plan}'s windows go to a spill file: when it has more rows than {@code --spill-rows}, or when its
     * windows would take more than {@code heapBudget} bytes of heap ({@link #windowBytes}). The second bound is the
     * one that matters for long rows (a million rows of 4k tokens are 32 GB of windows); rows are what the user
     * counts and what the plan line reports. Either way the windows, and so the result, are the same.
     */
    static boolean spills(TrainJobSpec job, AdapterPlan plan, long heapBudget) {
        return spills(job.spillRows(), job.template().seqLen(), plan, heapBudget);
    }

    /** {@link #spills(TrainJobSpec, AdapterPlan, long)} for windows of {@code seqLen} under {@code spillRows}. */
    static boolean spills(long spillRows, int seqLen, AdapterPlan plan, long heapBudget) {
        return plan.rows() > spillRows || windowBytes(plan.tokens(), seqLen) > heapBudget;
    }

    /**
     * The heap that windows of {@code tokens} tokens take, about: an int32 input and an int32 target per token, and
     * per window of {@code seqLen} its object and two array headers (64 bytes, rounded up).
     */
    static long windowBytes(long tokens, int seqLen) {
        long windows = (tokens + seqLen - 1) / seqLen;
        return 8 * tokens + 64 * windows;
    }

    /**
     * One task's share of the heap for windows: an eighth of this JVM's maximum heap divided among as many tasks as
     * it could run at once (its processors over {@code spark.task.cpus}), which leaves the rest to Spark, the rows in
     * flight and the trainer's own heap arrays.
     */
    static long heapBudget() {
        TaskContext ctx = TaskContext.get();
        int cpus = ctx == null ? 1 : Math.max(1, ctx.cpus());
        int tasks = Math.max(1, Runtime.getRuntime().availableProcessors() / cpus);
        return Runtime.getRuntime().maxMemory() / 8 / tasks;
    }

    /**
     * Packs {@code name}'s rows as {@code spec} says, into a spill file when {@link #spills} says so for {@code plan}
     * (its planned rows and tokens; a tree node's, for each of its keys). Rows out of content order are a bug of the
     * caller and fail the attempt, as does an error reading them (the shuffle's: transient, unlike the data's own
     * errors, which are an {@link IllegalArgumentException} as {@link AdapterTask#pack}'s). A killed task stops while
     * reading them: Spark's shuffle iterator checks the kill flag.
     */
    static KeyWindows pack(TrainJobSpec job, TrainSpec spec, String name, AdapterPlan plan, Iterator<TrainRow> rows)
            throws IOException {
        return pack(job.tokenizer(), job.spillRows(), spec, name, plan, rows);
    }

    /**
     * {@link #pack(TrainJobSpec, TrainSpec, String, AdapterPlan, Iterator)} for a stage that does not train but reads
     * the windows training packed ({@code eval}, the router's fit): the same windows and split, spilled past
     * {@code spillRows} or the heap share as training spills them.
     */
    static KeyWindows pack(TokenizerSpec tokenizerSpec, long spillRows, TrainSpec spec, String name, AdapterPlan plan,
                           Iterator<TrainRow> rows) throws IOException {
        Tokenizer tokenizer = tokenizerSpec.get();
        long[] tooShort = {0};
        Iterator<EncodedRow> encoded = encoded(tokenizer, name, rows, tooShort);
        WindowPacker packer = new WindowPacker(tokenizer, spec.seqLen());
        long budget = heapBudget();
        if (!spills(spillRows, spec.seqLen(), plan, budget)) {
            PackedData data = packer.packEncoded(spec.adapterName(), encoded, spec.heldOutFraction(), spec.seed());
            return new KeyWindows(new AdapterTask.Packed(data, tooShort[0]), List.of(), List.of());
        }
        Path file = spillFile();
        LOG.info("{}: {} rows, {} tokens (about {} MiB of windows), over --spill-rows {} or this task's {} MiB share "
                + "of the heap: packing its windows into {}", name, plan.rows(), plan.tokens(),
                windowBytes(plan.tokens(), spec.seqLen()) >> 20, spillRows, budget >> 20, file);
        try {
            WindowPacker.SpilledWindows w = packer.packEncodedSpilled(spec.adapterName(), encoded,
                    spec.heldOutFraction(), spec.seed(), file);
            return new KeyWindows(new AdapterTask.Packed(w.data(), tooShort[0]), List.of(w), List.of(file));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * The windows of several keys, each packed and split on its own, one after another: the training windows of all,
     * then the held-out windows of all (a tree node's, {@link TreeTask}). Closing it closes every part.
     */
    static KeyWindows join(List<KeyWindows> parts) {
        List<List<Window>> train = new ArrayList<>();
        List<List<Window>> heldOut = new ArrayList<>();
        List<WindowPacker.SpilledWindows> open = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        long rows = 0;
        long tokens = 0;
        long targets = 0;
        long tooShort = 0;
        for (KeyWindows k : parts) {
            PackedData d = k.packed.data();
            train.add(d.train());
            heldOut.add(d.heldOut());
            rows += d.rows();
            tokens += d.tokens();
            targets += d.targetTokens();
            tooShort += k.packed.tooShort();
            open.addAll(k.open);
            files.addAll(k.files);
        }
        return new KeyWindows(new AdapterTask.Packed(new PackedData(WindowFile.concat(train),
                WindowFile.concat(heldOut), rows, tokens, targets), tooShort), open, files);
    }

    AdapterTask.Packed packed() {
        return packed;
    }

    PackedData data() {
        return packed.data();
    }

    /** Where the windows are: {@value #MEMORY}, or {@value #SPILL_FILE} when any of them is in one. */
    String windowsIn() {
        return files.isEmpty() ? MEMORY : SPILL_FILE;
    }

    @Override
    public void close() throws IOException {
        IOException failed = null;
        for (WindowPacker.SpilledWindows w : open) {
            try {
                w.close();
            } catch (IOException e) {
                failed = e;
            }
        }
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * A new file for spilled windows: one of the executor's temporary block files (in its {@code blockmgr-*}
     * directories under {@code spark.local.dir} or the cluster manager's local dirs, which Spark removes with the
     * executor, as it does its own sort spills), or in {@code java.io.tmpdir} outside Spark. Deleted when the task
     * ends, however it ends.
     */
    static Path spillFile() throws IOException {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        Path file = env != null ? env.blockManager().diskBlockManager().createTempLocalBlock()._2().toPath()
                : Files.createTempFile(SPILL_PREFIX, ".bin");
        TaskContext ctx = TaskContext.get();
        if (ctx != null) {
            ctx.addTaskCompletionListener((TaskCompletionListener) c -> {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.warn("Cannot delete spill file {}: {}", file, e.getMessage());
                }
            });
        }
        return file;
    }

    /** The rows encoded as they arrive, checked to be in content order; rows too short to train on counted. */
    private static Iterator<EncodedRow> encoded(Tokenizer tokenizer, String name, Iterator<TrainRow> rows,
                                                long[] tooShort) {
        return new Iterator<>() {
            private TrainRow previous;
            private EncodedRow next;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    TrainRow r;
                    try {
                        if (!rows.hasNext()) {
                            break;
                        }
                        r = rows.next();
                    } catch (IllegalArgumentException | IllegalStateException e) { // not this adapter's data
                        throw new UncheckedIOException(new IOException("Cannot read the rows of " + name + ": "
                                + e.getMessage(), e));
                    }
                    if (previous != null && TrainRow.ORDER.compare(previous, r) > 0) {
                        throw new UnsupportedOperationException("Cannot stream the rows of " + name
                                + ": they arrived out of content order");
                    }
                    previous = r;
                    next = r.encoded(tokenizer);
                    tooShort[0] += next == null ? 1 : 0;
                }
                return next != null;
            }

            @Override
            public EncodedRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                EncodedRow e = next;
                next = null;
                return e;
            }
        };
    }
}
