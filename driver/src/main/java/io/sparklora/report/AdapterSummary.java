package io.sparklora.report;

import io.sparklora.job.LossPoint;
import java.util.List;
import java.util.Objects;

/**
 * One row of the report's summary table with the adapter's (or fully fine-tuned model's) loss curves: the manifest's
 * entry completed by its training record.
 *
 * @param name           adapter name (as in the manifest)
 * @param sourceKey      the key value or shard the adapter was trained on, or null when the manifest does not say
 * @param rows           training rows, or -1 when unknown
 * @param steps          optimizer steps, or -1 when unknown
 * @param trainLoss      final training loss (NaN when unknown)
 * @param heldOutLoss    final held-out loss (NaN when nothing was held out)
 * @param baseHeldOutLoss the base model's loss on the adapter's held-out rows (NaN when unknown)
 * @param seconds        training wall-clock seconds (NaN when unknown)
 * @param parameters     weights trained, or -1 when the manifest does not say: a {@code train --full} model's
 *                       {@code parameters} (every weight), an adapter's {@code trainable_params} (its A and B
 *                       elements, as {@code plane.json} counts them)
 * @param trainHistory   training loss per step
 * @param heldOutHistory held-out loss per evaluation
 */
public record AdapterSummary(String name, String sourceKey, long rows, long steps, double trainLoss,
                             double heldOutLoss, double baseHeldOutLoss, double seconds, long parameters,
                             List<LossPoint> trainHistory,
                             List<LossPoint> heldOutHistory) {
    public AdapterSummary {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("Invalid adapter name \"\": must not be empty");
        }
        trainHistory = List.copyOf(trainHistory);
        heldOutHistory = List.copyOf(heldOutHistory);
    }
}
