package io.sparklora.report;

import io.sparklora.job.LossPoint;
import io.sparklora.output.TrainingFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a report needs from one adapter's (or {@code train --full} model's) {@code training.json}: its loss histories,
 * final losses, rows and timings. The file is read by its one reader, {@link TrainingFile#read} (strict JSON, a
 * checked format_version, the typed fields); the provenance it also holds (config, seed, base-model hash, versions)
 * is not shown. A report draws the histories as curves, so it also checks what the type cannot: every step is a
 * whole number from 1, in increasing order.
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
                              double baseHeldOutLoss, double totalSeconds, List<LossPoint> trainHistory,
                              List<LossPoint> heldOutHistory) {
    /** Nothing recorded: what a report knows of an adapter whose record it did not read. */
    static final TrainingHistory UNKNOWN = new TrainingHistory(null, -1, -1, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, List.of(), List.of());

    public TrainingHistory {
        trainHistory = List.copyOf(trainHistory);
        heldOutHistory = List.copyOf(heldOutHistory);
    }

    /** Reads {@code training.json}, refusing it naming the file as every reader of the format does. */
    public static TrainingHistory read(Path file) throws IOException {
        return read(file, file.toString());
    }

    /** {@link #read(Path)}, naming the file {@code where} in messages (a staged copy by its remote path). */
    static TrainingHistory read(Path file, String where) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read " + where + ": no such file");
        }
        TrainingFile t = TrainingFile.read(Files.readAllBytes(file), where);
        List<LossPoint> train = points(t.trainHistory(), where, "train_history");
        List<LossPoint> heldOut = points(t.heldOutHistory(), where, "held_out_history");
        double finalTrain = orNaN(t.finalTrainLoss());
        if (Double.isNaN(finalTrain) && !train.isEmpty()) {
            finalTrain = train.get(train.size() - 1).loss();
        }
        double finalHeldOut = orNaN(t.finalHeldOutLoss());
        if (Double.isNaN(finalHeldOut) && !heldOut.isEmpty()) {
            finalHeldOut = heldOut.get(heldOut.size() - 1).loss();
        }
        return new TrainingHistory(t.adapter(), t.data() == null ? -1 : t.data().rows(),
                t.steps() == null ? -1 : t.steps(), finalTrain, finalHeldOut, orNaN(t.baseHeldOutLoss()),
                orNaN(t.totalSeconds()), train, heldOut);
    }

    private static double orNaN(Double v) {
        return v == null ? Double.NaN : v;
    }

    private static List<LossPoint> points(List<TrainingFile.Point> history, String where, String field)
            throws IOException {
        List<LossPoint> out = new ArrayList<>();
        if (history == null) {
            return out;
        }
        int previous = 0;
        for (int i = 0; i < history.size(); i++) {
            TrainingFile.Point p = history.get(i);
            if (p == null) {
                throw new IOException("Cannot read " + where + ": " + field + "[" + i + "] is null: expected "
                        + "[step, loss, learning rate]");
            }
            if (p.step() <= previous) {
                throw new IOException("Cannot read " + where + ": " + field + "[" + i + "] has step " + p.step()
                        + (previous == 0 ? ": expected a step >= 1" : " after step " + previous
                        + ": expected increasing steps"));
            }
            previous = p.step();
            out.add(new LossPoint(p.step(), p.loss(), p.learningRate()));
        }
        return out;
    }
}
