package io.sparklora.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.util.StrictJson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The full per-adapter table of a report as {@value #CSV} and {@value #JSON} (name, key, rows, steps, trainable
 * parameters, train loss, held-out loss, base held-out loss, gain, seconds): a page cannot show 10,000 rows readably,
 * a spreadsheet or a notebook can. {@code trainable_params} is counted as {@code plane.json} counts it (an adapter's
 * A and B elements; a {@code train --full} model's every weight), empty when the manifest does not say (outputs
 * written before it was recorded).
 */
final class AdapterTables {
    static final String CSV = "adapters.csv";
    static final String JSON = "adapters.json";
    private static final String HEADER =
            "name,key,rows,steps,trainable_params,train_loss,held_out_loss,base_held_out_loss,gain,seconds";

    private AdapterTables() {
    }

    static void write(List<AdapterSummary> adapters, Path dir) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(CSV), StandardCharsets.UTF_8)) {
            w.write(HEADER);
            w.write('\n');
            for (AdapterSummary a : adapters) {
                w.write(String.join(",", csv(a.name()), a.sourceKey() == null ? "" : csv(a.sourceKey()),
                        count(a.rows()), count(a.steps()), count(a.parameters()), num(a.trainLoss()),
                        num(a.heldOutLoss()), num(a.baseHeldOutLoss()), num(GainsChart.gain(a)), num(a.seconds())));
                w.write('\n');
            }
        }
        ArrayNode rows = StrictJson.MAPPER.createArrayNode();
        for (AdapterSummary a : adapters) {
            ObjectNode o = rows.addObject();
            o.put("name", a.name());
            o.put("key", a.sourceKey());
            putCount(o, "rows", a.rows());
            putCount(o, "steps", a.steps());
            putCount(o, "trainable_params", a.parameters());
            putNumber(o, "train_loss", a.trainLoss());
            putNumber(o, "held_out_loss", a.heldOutLoss());
            putNumber(o, "base_held_out_loss", a.baseHeldOutLoss());
            putNumber(o, "gain", GainsChart.gain(a));
            putNumber(o, "seconds", a.seconds());
        }
        StrictJson.MAPPER.writeValue(dir.resolve(JSON).toFile(), rows);
    }

    /** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
    static String csv(String s) {
        return s.matches("(?s).*[\",\r\n].*") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static String count(long v) {
        return v < 0 ? "" : Long.toString(v);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
    }

    private static void putCount(ObjectNode o, String field, long v) {
        if (v < 0) {
            o.putNull(field);
        } else {
            o.put(field, v);
        }
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isNaN(v)) {
            o.putNull(field);
        } else {
            o.put(field, v);
        }
    }
}
