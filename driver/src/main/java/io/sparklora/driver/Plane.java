package io.sparklora.driver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code plane.json} of a {@code sweep}: every trained point, and per partition the best point and the smallest
 * adequate one — the fewest trainable parameters among the points whose held-out loss is within the relative
 * tolerance of the best (loss &le; best + tolerance·|best|; a tie on parameters goes to the lower loss). That is the
 * seed's "start low and raise it only while it pays" read off the whole plane instead of one line of it.
 */
public final class Plane {
    public static final String FILE = "plane.json";
    /** The value of {@code rank} (and the targets) of the full fine-tuning corner. */
    public static final String FULL = "full";

    /**
     * One point of one partition.
     *
     * @param key             the partition's key value (or shard number)
     * @param name            the partition's adapter (or model) directory name
     * @param targetsId       the target set's id ({@code q_proj+v_proj}), or {@code full}
     * @param targets         the module names trained, {@code all-linear} expanded; {@code [full]} for the corner
     * @param rank            the rank, or null for the full fine-tuning corner
     * @param path            the point's output, relative to the sweep's output
     * @param trainableParams trainable parameters
     * @param adapterBytes    bytes of the adapter's (or model's) config and weights files
     * @param heldOutLoss     the trainer's final held-out loss (NaN when the point failed)
     * @param seconds         training seconds
     */
    public record Point(String key, String name, String targetsId, List<String> targets, Integer rank, String path,
                        long trainableParams, long adapterBytes, double heldOutLoss, double seconds) {
        public boolean full() {
            return rank == null;
        }
    }

    private Plane() {
    }

    /** The lowest held-out loss of a partition's points, or null when none has a finite loss. */
    public static Point best(List<Point> points) {
        return points.stream().filter(p -> Double.isFinite(p.heldOutLoss()))
                .min(Comparator.comparingDouble(Point::heldOutLoss)).orElse(null);
    }

    /** The smallest point within {@code tolerance} (relative) of the best, or null when none has a finite loss. */
    public static Point smallestAdequate(List<Point> points, double tolerance) {
        Point best = best(points);
        if (best == null) {
            return null;
        }
        double limit = best.heldOutLoss() + tolerance * Math.abs(best.heldOutLoss());
        return points.stream().filter(p -> Double.isFinite(p.heldOutLoss()) && p.heldOutLoss() <= limit)
                .min(Comparator.comparingLong(Point::trainableParams).thenComparingDouble(Point::heldOutLoss))
                .orElseThrow();
    }

    /** The points grouped by partition name, in the order first met. */
    public static Map<String, List<Point>> byPartition(List<Point> points) {
        Map<String, List<Point>> out = new LinkedHashMap<>();
        points.forEach(p -> out.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p));
        return out;
    }

    /** The whole plane as JSON: {@code points}, then {@code partitions} with each one's two choices. */
    public static ObjectNode json(List<Point> points, double tolerance) {
        ObjectNode root = TrainingRecord.JSON.createObjectNode();
        root.put("tolerance", tolerance);
        ArrayNode list = root.putArray("points");
        points.forEach(p -> put(list.addObject(), p));
        ArrayNode parts = root.putArray("partitions");
        byPartition(points).forEach((name, own) -> {
            ObjectNode o = parts.addObject().put("name", name).put("key", own.get(0).key());
            Point best = best(own);
            Point small = smallestAdequate(own, tolerance);
            if (best == null) {
                o.putNull("best");
                o.putNull("smallest_adequate");
            } else {
                put(o.putObject("best"), best);
                put(o.putObject("smallest_adequate"), small);
            }
        });
        return root;
    }

    private static void put(ObjectNode o, Point p) {
        o.put("key", p.key()).put("name", p.name()).put("targets_id", p.targetsId());
        p.targets().forEach(o.putArray("targets")::add);
        if (p.full()) {
            o.put("rank", FULL);
        } else {
            o.put("rank", p.rank());
        }
        o.put("path", p.path()).put("trainable_params", p.trainableParams()).put("adapter_bytes", p.adapterBytes());
        if (Double.isFinite(p.heldOutLoss())) {
            o.put("held_out_loss", p.heldOutLoss());
        } else {
            o.putNull("held_out_loss");
        }
        o.put("seconds", p.seconds());
    }

    /**
     * Writes {@code <out>/plane.json} atomically, after every point (its presence means the sweep finished); the
     * report is rendered from it.
     */
    public static void write(ObjectNode plane, String outUri, Configuration conf) throws IOException {
        Path file = new Path(outUri, FILE);
        FileSystem fs = file.getFileSystem(conf);
        Manifest.writeAtomically(fs, conf, file,
                TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(plane));
    }
}
