package io.sparklora.driver;

import io.sparklora.output.ManifestFile;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every training mode ({@code train}, {@code --full}, {@code --tree}, {@code --rank auto}, {@code sweep}) says
 * about its plan's largest keys ({@link TrainPlanner.Plan#largest}): the printed plan line, and the manifest's
 * {@code job.largest_keys} ({@link Manifest#jobJson}). One place, so the line and the field cannot drift per mode.
 */
final class PlanLine {
    private static final Logger LOG = LoggerFactory.getLogger(PlanLine.class);

    private PlanLine() {
    }

    /** Logs and prints {@code Plan: largest key(s) …} for {@code plan} under {@code --spill-rows spillRows}. */
    static void print(TrainPlanner.Plan plan, long spillRows, PrintStream out) {
        String line = text(plan.largest(), spillRows);
        LOG.info("Plan: {}", line);
        out.println("Plan: " + line);
    }

    /**
     * The plan line: the largest keys with their rows and tokens, and which of them spill their windows to disk
     * ({@code --spill-rows}; a key spills when its rows exceed it).
     */
    static String text(List<TrainPlanner.KeySize> largest, long spillRows) {
        List<String> parts = new ArrayList<>();
        long spilling = 0;
        for (TrainPlanner.KeySize k : largest) {
            parts.add(k + (k.rows() > spillRows ? " spills" : ""));
            spilling += k.rows() > spillRows ? 1 : 0;
        }
        return "largest key(s) " + String.join(", ", parts) + (spilling == 0 ? "; all in memory (--spill-rows "
                + spillRows + ")" : "; over --spill-rows " + spillRows + " a key packs its windows on local disk");
    }

    /** The largest keys as the manifest lists them, largest first. */
    static List<ManifestFile.KeySize> manifestKeys(List<TrainPlanner.KeySize> largest) {
        return largest.stream().map(k -> new ManifestFile.KeySize(k.key(), k.adapter(), k.rows(), k.tokens()))
                .toList();
    }
}
