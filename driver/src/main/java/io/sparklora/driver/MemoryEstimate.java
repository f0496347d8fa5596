package io.sparklora.driver;

import io.sparklora.job.TrainSpec;
import io.sparklora.lora.LoraTarget;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;

/**
 * The pre-flight check of a train job's memory: what one executor needs (the F32 base once, and per concurrent task
 * the activations a training step keeps for its backward pass plus the adapter's weights, gradients and AdamW
 * moments) against what it may use, so that a job that cannot fit fails before any task starts, with the numbers,
 * instead of as executors dying one after another.
 *
 * <p>Tensors live off the Java heap, under JavaCPP's limit {@code -Dorg.bytedeco.javacpp.maxbytes}, which defaults
 * to the heap size ({@code -Xmx}): an executor may use {@code maxbytes} from {@code spark.executor.extraJavaOptions},
 * else {@code spark.executor.memory}. In local mode the tasks run in the driver: the limit is this JVM's own, or
 * {@code spark.driver.memory} when set lower. The activation count is an estimate (every linear layer's output, a
 * few hidden-width buffers and the attention probabilities per layer, the logits and their gradient), deliberately
 * on the low side: the check refuses only jobs that certainly do not fit.
 *
 * @param baseBytes      the base model in F32
 * @param activationBytes one task's activations for one micro-batch
 * @param adapterBytes   one task's adapter weights, gradients and two AdamW moments
 * @param tasks          tasks that run at once on one executor
 * @param limitBytes     what one executor may use
 * @param limitSource    where the limit comes from, for the message
 */
public record MemoryEstimate(long baseBytes, long activationBytes, long adapterBytes, int tasks, long limitBytes,
                             String limitSource) {
    private static final long F32 = 4;
    private static final Pattern MAX_BYTES = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)");

    /** The estimate of a job with these settings under {@code conf}. */
    public static MemoryEstimate of(ModelConfig model, List<LoraTarget> targets, TrainSpec spec, SparkConf conf) {
        long base = 0;
        for (int[] shape : model.weightShapes().values()) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            base += n * F32;
        }
        long tokens = (long) spec.batchSize() * spec.seqLen();
        long perTokenPerLayer = 4L * model.hiddenSize() + (long) heads(model) * spec.seqLen();
        for (LinearModule m : model.linearModules()) {
            if (m.layer() == 0) {
                perTokenPerLayer += m.outFeatures();
            }
        }
        long activations = tokens * F32 * (perTokenPerLayer * model.numLayers() + 2L * model.vocabSize());
        long adapter = 0;
        for (LoraTarget t : targets) {
            adapter += (long) t.rank() * (t.module().inFeatures() + t.module().outFeatures()) * F32 * 4;
        }
        boolean local = conf.get("spark.master", "local[*]").startsWith("local");
        int tasks = local ? localThreads(conf.get("spark.master", "local[*]"))
                : Math.max(1, conf.getInt("spark.executor.cores", 1) / conf.getInt("spark.task.cpus", 1));
        long limit;
        String source;
        if (local) {
            limit = org.bytedeco.javacpp.Pointer.maxBytes();
            source = "this driver JVM's JavaCPP limit (local mode)";
            if (conf.contains("spark.driver.memory") && bytes(conf.get("spark.driver.memory")) < limit) {
                limit = bytes(conf.get("spark.driver.memory"));
                source = "spark.driver.memory (local mode)";
            }
        } else {
            Matcher m = MAX_BYTES.matcher(conf.get("spark.executor.extraJavaOptions", ""));
            if (m.find()) {
                limit = bytes(m.group(1));
                source = "-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions";
            } else {
                limit = bytes(conf.get("spark.executor.memory", "1g"));
                source = "spark.executor.memory (JavaCPP's default limit)";
            }
        }
        return new MemoryEstimate(base, activations, adapter, tasks, limit, source);
    }

    /** What one executor needs: the base once, each concurrent task's own share. */
    public long totalBytes() {
        return baseBytes + tasks * (activationBytes + adapterBytes);
    }

    /** Fails with the numbers when the job cannot fit. */
    public void check() {
        if (totalBytes() > limitBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "Cannot train: an executor needs about %s "
                    + "but may use %s (%s): base model %s (F32), and for each of %d concurrent task(s) activations "
                    + "%s and adapter with optimizer state %s; raise the limit, or lower --batch, --seq or --rank, or "
                    + "run fewer tasks per executor", mib(totalBytes()), mib(limitBytes), limitSource, mib(baseBytes),
                    tasks, mib(activationBytes), mib(adapterBytes)));
        }
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    private static int heads(ModelConfig model) {
        return model.fold(l -> l.numAttentionHeads(), g -> g.numHeads());
    }

    private static int localThreads(String master) {
        Matcher m = Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]").matcher(master);
        if (m.matches() && !m.group(1).equals("*")) {
            return Integer.parseInt(m.group(1));
        }
        return master.equals("local") ? 1 : Runtime.getRuntime().availableProcessors();
    }

    /** Spark's size strings ({@code 512m}, {@code 4g}, plain bytes). */
    static long bytes(String size) {
        try {
            String s = size.trim().toLowerCase(Locale.ROOT);
            if (s.matches("\\d+")) {
                return Long.parseLong(s);
            }
            return org.apache.spark.network.util.JavaUtils.byteStringAsBytes(s);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Invalid memory size " + size + ": expected e.g. 512m or 4g", e);
        }
    }
}
