package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.job.LossPoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a report needs from one adapter's {@code adapters/<name>/training.json} (written by the driver's
 * {@code io.sparklora.driver.TrainingRecord}): its loss history and timings. The file also holds the config, seed,
 * base-model hash and versions (provenance), which the report does not read.
 *
 * <p>The shape read (format_version 1; snake_case or camelCase spellings of each field are accepted):
 * <pre>{@code
 * { "format_version": 1, "adapter": "de", "data": {"rows": 1200, ...}, "steps": 200,
 *   "final_train_loss": 1.23, "final_held_out_loss": 1.40, "base_held_out_loss": 2.9,
 *   "train_history":    [ [1, 5.5, 1e-4], [2, 5.1, 2e-4], ... ],      // [step, loss, learning rate]
 *   "held_out_history": [ [50, 2.1, 1e-4], ... ],
 *   "timings": { "train_seconds": 9.5, "eval_seconds": 1.1, "checkpoint_seconds": 0.2, "total_seconds": 11.0 } }
 * }</pre>
 * A point may also be an object {@code {"step": 1, "loss": 5.5, "learning_rate": 1e-4}}, and the two histories may
 * sit in a {@code loss_history} object as {@code train} / {@code held_out}; {@code rows} may be at the top level.
 *
 * @param name             the adapter name, or null when the file does not say
 * @param rows             training rows, or -1 when not recorded
 * @param steps            optimizer steps, or -1 when not recorded
 * @param finalTrainLoss   training loss of the last step (NaN when not recorded)
 * @param finalHeldOutLoss held-out loss at the end (NaN when nothing was held out)
 * @param baseHeldOutLoss  the base model's loss on the same held-out rows (NaN when not recorded)
 * @param totalSeconds     wall-clock seconds of the run (NaN when not recorded)
 * @param trainHistory     training loss of every step, in step order
 * @param heldOutHistory   held-out loss at every evaluation, in step order
 */
public record TrainingHistory(String name, long rows, long steps, double finalTrainLoss, double finalHeldOutLoss,
                             double baseHeldOutLoss, double totalSeconds, List<LossPoint> trainHistory, List<LossPoint> heldOutHistory) {
    /** Nothing recorded: what a report knows of an adapter whose record it did not read. */
    static final TrainingHistory UNKNOWN = new TrainingHistory(null, -1, -1, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, List.of(), List.of());

    public TrainingHistory {
        trainHistory = List.copyOf(trainHistory);
        heldOutHistory = List.copyOf(heldOutHistory);
    }

    /** Reads {@code training.json}. */
    public static TrainingHistory read(Path file) throws IOException {
        JsonFields json = JsonFields.readObject(file, "training record");
        json.checkFormatVersion(1);
        JsonFields history = json.object("loss_history", "lossHistory");
        JsonFields holder = history != null ? history : json;
        List<LossPoint> train = points(json, holder.array("train", "train_history", "trainHistory"), "train");
        List<LossPoint> heldOut = points(json,
                holder.array("held_out", "heldOut", "held_out_history", "heldOutHistory"), "held_out");
        JsonFields timings = json.object("timings");
        double seconds = timings != null ? timings.number("total_seconds", "totalSeconds")
                : json.number("total_seconds", "totalSeconds", "seconds");
        double finalTrain = json.number("final_train_loss", "finalTrainLoss");
        if (Double.isNaN(finalTrain) && !train.isEmpty()) {
            finalTrain = train.get(train.size() - 1).loss();
        }
        double finalHeldOut = json.number("final_held_out_loss", "finalHeldOutLoss");
        if (Double.isNaN(finalHeldOut) && !heldOut.isEmpty()) {
            finalHeldOut = heldOut.get(heldOut.size() - 1).loss();
        }
        JsonFields data = json.object("data");
        long rows = json.count("rows", "train_rows", "trainRows");
        if (rows < 0 && data != null) {
            rows = data.count("rows");
        }
        return new TrainingHistory(json.text("adapter", "adapter_name", "adapterName", "name"), rows,
                json.count("steps"), finalTrain, finalHeldOut, json.number("base_held_out_loss", "baseHeldOutLoss"),
                seconds, train, heldOut);
    }

    private static List<LossPoint> points(JsonFields json, JsonNode array, String field) throws IOException {
        List<LossPoint> out = new ArrayList<>();
        if (array == null) {
            return out;
        }
        int previous = 0;
        for (int i = 0; i < array.size(); i++) {
            JsonNode p = array.get(i);
            String at = field + "[" + i + "]";
            double step;
            double loss;
            double lr = Double.NaN;
            if (p.isArray() && p.size() >= 2) {
                step = json.asNumber(p.get(0), at);
                loss = json.asNumber(p.get(1), at);
            } else if (p.isObject()) {
                JsonFields o = new JsonFields(p, json.source());
                step = o.number("step");
                loss = o.number("loss");
                lr = o.number("learning_rate", "learningRate", "lr");
            } else {
                throw json.bad(at, "is neither {\"step\", \"loss\"} nor [step, loss]: " + p);
            }
            if (!(step >= 1) || step != Math.rint(step) || step > Integer.MAX_VALUE) {
                throw json.bad(at, "has step " + step + ": must be a whole number >= 1");
            }
            if ((int) step <= previous) {
                throw json.bad(at, "has step " + (int) step + " after step " + previous + ": steps must increase");
            }
            previous = (int) step;
            out.add(new LossPoint((int) step, loss, lr));
        }
        return out;
    }
}
