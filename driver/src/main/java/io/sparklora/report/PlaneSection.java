package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.driver.Plane;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The "Plane" section of a {@code sweep} output, read from its {@code plane.json}: per partition the best point and
 * the smallest adequate one (by {@link Plane}'s rule, with the file's tolerance), naming each point's targets, rank
 * and trainable parameters, then the frontier chart and each partition's heat map ({@link PlaneCharts}).
 *
 * @param tolerance the relative tolerance the sweep was run with
 * @param points    every point, in file order
 */
record PlaneSection(double tolerance, List<Plane.Point> points) {
    PlaneSection {
        points = List.copyOf(points);
    }

    /** Reads {@code plane.json}; a missing or mistyped field is an error naming the file and the field. */
    static PlaneSection read(Path file) throws IOException {
        JsonFields plane = JsonFields.readObject(file, "plane");
        double tolerance = plane.number("tolerance");
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
            throw plane.bad("tolerance", "is " + plane.node().get("tolerance") + ": expected a number >= 0");
        }
        JsonNode list = plane.array("points");
        if (list == null) {
            throw plane.bad("points", "is missing");
        }
        List<Plane.Point> points = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "points[" + i + "]";
            if (!list.get(i).isObject()) {
                throw plane.bad(at, "is not an object");
            }
            JsonFields p = new JsonFields(list.get(i), plane.source());
            String name = p.text("name");
            String targetsId = p.text("targets_id");
            if (name == null || name.isEmpty()) {
                throw plane.bad(at + ".name", "is missing");
            }
            if (targetsId == null || targetsId.isEmpty()) {
                throw plane.bad(at + ".targets_id", "is missing");
            }
            List<String> targets = new ArrayList<>();
            JsonNode t = p.array("targets");
            for (int j = 0; t != null && j < t.size(); j++) {
                if (!t.get(j).isTextual()) {
                    throw plane.bad(at + ".targets[" + j + "]", "is not a string: " + t.get(j));
                }
                targets.add(t.get(j).asText());
            }
            JsonNode rank = p.get("rank");
            Integer r;
            if (rank != null && rank.isTextual() && rank.asText().equals(Plane.FULL)) {
                r = null;
            } else if (rank != null && rank.canConvertToInt() && rank.isIntegralNumber() && rank.asInt() >= 1) {
                r = rank.asInt();
            } else {
                throw plane.bad(at + ".rank", "is " + rank + ": expected a positive whole number or \"full\"");
            }
            long params = p.count("trainable_params");
            if (params < 0) {
                throw plane.bad(at + ".trainable_params", "is missing");
            }
            String key = p.text("key");
            points.add(new Plane.Point(key == null ? name : key, name, targetsId, targets, r, p.text("path"),
                    params, Math.max(0, p.count("adapter_bytes")), p.number("held_out_loss"), p.number("seconds")));
        }
        return new PlaneSection(tolerance, points);
    }

    /**
     * The section's HTML.
     *
     * @param frontier the frontier chart's file, or null
     * @param heatmaps partition name → its heat map's file (partitions whose every point failed are absent)
     */
    String html(String frontier, Map<String, String> heatmaps) {
        StringBuilder h = new StringBuilder("<h2>Plane</h2>\n<p>Held-out loss of every (target modules, rank) point ")
                .append("per partition, from <a href=\"../").append(Plane.FILE).append("\">").append(Plane.FILE)
                .append("</a>. The smallest adequate point has the fewest trainable parameters among those within ")
                .append(String.format(Locale.ROOT, "%s%%", trim(100 * tolerance))).append(" of the best.</p>\n")
                .append("<table id=\"plane\">\n<tr><th>partition</th><th>key</th><th>best point</th>")
                .append("<th>trainable params</th><th>held-out loss</th><th>smallest adequate point</th>")
                .append("<th>trainable params</th><th>held-out loss</th></tr>\n");
        Map<String, List<Plane.Point>> byName = Plane.byPartition(points);
        byName.forEach((name, own) -> {
            Plane.Point best = Plane.best(own);
            Plane.Point small = Plane.smallestAdequate(own, tolerance);
            h.append("<tr><td>").append(HtmlReport.escape(name)).append("</td><td>")
                    .append(HtmlReport.escape(own.get(0).key())).append("</td>");
            if (best == null) {
                h.append("<td colspan=\"6\">every point failed</td></tr>\n");
                return;
            }
            h.append(cells(best)).append(cells(small)).append("</tr>\n");
        });
        h.append("</table>\n");
        if (points.stream().anyMatch(Plane.Point::full)) {
            String corner = "../" + io.sparklora.driver.SweepJob.FULL_CORNER + "/" + ReportWriter.DIR + "/"
                    + ReportWriter.INDEX;
            h.append("<p>The full fine-tuning corner is a <code>train --full</code> output with its own report: ")
                    .append("<a href=\"").append(corner).append("\">").append(corner.substring("../".length()))
                    .append("</a>.</p>\n");
        }
        if (frontier != null) {
            h.append("<img src=\"").append(HtmlReport.escape(frontier))
                    .append("\" alt=\"held-out loss against trainable parameters\">\n");
        }
        for (String name : byName.keySet()) {
            String png = heatmaps.get(name);
            h.append("<h3 id=\"plane-").append(HtmlReport.escape(name)).append("\">Plane of ")
                    .append(HtmlReport.escape(name)).append("</h3>\n");
            h.append(png == null ? "<p>Every point failed: no heat map.</p>\n" : "<img src=\""
                    + HtmlReport.escape(png) + "\" alt=\"plane heat map of " + HtmlReport.escape(name) + "\">\n");
        }
        return h.toString();
    }

    /** How a point is named in the table: its targets and rank, or the full fine-tuning corner. */
    static String describe(Plane.Point p) {
        return p.full() ? "full fine-tuning" : p.targetsId() + " r" + p.rank();
    }

    private static String cells(Plane.Point p) {
        String title = p.targets().isEmpty() ? "" : " title=\"" + HtmlReport.escape(String.join(", ", p.targets()))
                + "\"";
        return "<td" + title + ">" + HtmlReport.escape(describe(p)) + "</td>" + HtmlReport.num(p.trainableParams())
                + HtmlReport.num(p.heldOutLoss(), 4);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "");
    }
}
