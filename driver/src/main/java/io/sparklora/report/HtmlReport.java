package io.sparklora.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text of {@code report/index.html}: the summary table (adapters, or a {@code train --full} output's models with
 * their parameters), the router's accuracy, the rank search and the plane, the
 * eval heat map, each adapter's loss curves. A sweep's output (a plane, no adapters of its own) shows the plane.
 */
final class HtmlReport {
    private HtmlReport() {
    }

    /**
     * @param output     the adapters
     * @param curves     adapter name → loss-curve PNG file name (adapters without a history are absent)
     * @param eval       the eval matrix, or null
     * @param heatmap    the heat map PNG file name, or null
     * @param exploration the rank search and plane sections (HTML, empty when the output has neither)
     * @param location   where the output is, as the user named it (an hdfs:// URI, not the local staging copy)
     * @param generated  a line saying when and by what the report was made
     */
    static String render(TrainOutput output, Map<String, String> curves, EvalMatrix eval, String heatmap,
                         String exploration, String location, String generated) {
        StringBuilder h = head(location, generated);
        if (output.adapters().isEmpty() && output.plane() != null) { // a sweep: its points are the plane's
            return h.append(exploration).append(evalSection(eval, heatmap)).append("</body>\n</html>\n")
                    .toString();
        }
        h.append("<h2>").append(output.entries().heading()).append("</h2>\n<table id=\"summary\">\n")
                .append(summaryHeader(output.entries(), "")).append("</tr>\n");
        for (AdapterSummary a : output.adapters()) {
            h.append(summaryRow(output.entries(), a, "")).append("</tr>\n");
        }
        h.append("</table>\n");
        h.append(RoutingSection.html(output.router()));
        h.append(exploration);
        h.append(evalSection(eval, heatmap));
        h.append("<h2>Loss curves</h2>\n");
        for (AdapterSummary a : output.adapters()) {
            h.append(curve(a, curves.get(a.name())));
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /** The page up to its first section: title, styles, the output and when it was made. */
    static StringBuilder head(String location, String generated) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>spark-lora report</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}\n")
                .append("table{border-collapse:collapse;margin:1em 0}\n")
                .append("th,td{border:1px solid #bbb;padding:4px 10px}\n")
                .append("td.num{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append("th{background:#eee}\nimg{max-width:100%;border:1px solid #ddd}\n")
                .append("</style>\n</head>\n<body>\n<h1>spark-lora report</h1>\n")
                .append("<p>Output: <code>").append(escape(location)).append("</code>. ")
                .append(escape(generated)).append("</p>\n");
        return h;
    }

    /**
     * The summary table's header row up to its last cell, {@code extra} headers ({@code <th>…</th>}) after the key;
     * fine-tuned models have a parameters column (an adapter's size is in its rank and targets).
     */
    static String summaryHeader(TrainOutput.Entries entries, String extra) {
        return "<tr><th>" + entries.noun() + "</th><th>key</th>" + extra + "<th>rows</th><th>steps</th>"
                + (entries == TrainOutput.Entries.MODELS ? "<th>parameters</th>" : "") + "<th>train loss</th>"
                + "<th>held-out loss</th><th>base held-out loss</th><th>seconds</th>";
    }

    /** A summary table row up to its last cell, {@code extra} cells ({@code <td>…</td>}) after the adapter's. */
    static String summaryRow(TrainOutput.Entries entries, AdapterSummary a, String extra) {
        return "<tr><td><a href=\"#adapter-" + escape(a.name()) + "\">" + escape(a.name()) + "</a></td><td>"
                + (a.sourceKey() == null ? "" : escape(a.sourceKey())) + "</td>" + extra + num(a.rows())
                + num(a.steps()) + (entries == TrainOutput.Entries.MODELS ? num(a.parameters()) : "")
                + num(a.trainLoss(), 4) + num(a.heldOutLoss(), 4) + num(a.baseHeldOutLoss(), 4)
                + num(a.seconds(), 1);
    }

    /** The cross-evaluation section, empty without a matrix. */
    static String evalSection(EvalMatrix eval, String heatmap) {
        StringBuilder h = new StringBuilder();
        if (eval != null) {
            h.append("<h2>Cross-evaluation</h2>\n<p>Mean held-out loss of every model on every partition; ")
                    .append("lower is better, the best model of each partition is in bold.</p>\n");
            if (heatmap != null) {
                h.append("<img src=\"").append(escape(heatmap)).append("\" alt=\"eval matrix heat map\">\n");
            } else {
                h.append("<p>The matrix (").append(eval.models().size()).append(" x ").append(eval.partitions().size())
                        .append(") is too large for a readable heat map; the table has every cell.</p>\n");
            }
            h.append(evalTable(eval));
            h.append("<p>The matrix as JSON: <a href=\"").append(ReportWriter.EVAL_COPY).append("\">")
                    .append(ReportWriter.EVAL_COPY).append("</a>.</p>\n");
        }
        return h.toString();
    }

    /** One adapter's heading and loss-curve image ({@code png} null: no history). */
    static String curve(AdapterSummary a, String png) {
        StringBuilder h = new StringBuilder();
        h.append("<h3 id=\"adapter-").append(escape(a.name())).append("\">").append(escape(a.name()))
                .append("</h3>\n");
        if (png != null) {
            h.append("<img src=\"").append(escape(png)).append("\" alt=\"loss curves of ")
                    .append(escape(a.name())).append("\">\n");
        } else {
            h.append("<p>No loss history recorded.</p>\n");
        }
        return h.toString();
    }

    private static String evalTable(EvalMatrix m) {
        StringBuilder h = new StringBuilder("<table id=\"eval\">\n<tr><th>model \\ partition</th>");
        for (String p : m.partitions()) {
            h.append("<th>").append(escape(p)).append("</th>");
        }
        h.append("</tr>\n");
        List<String> models = m.models();
        for (int r = 0; r < models.size(); r++) {
            h.append("<tr><th>").append(escape(models.get(r))).append("</th>");
            for (int c = 0; c < m.partitions().size(); c++) {
                String cell = format(m.loss(r, c), 4);
                h.append("<td class=\"num\">").append(m.bestModel(c) == r ? "<b>" + cell + "</b>" : cell)
                        .append("</td>");
            }
            h.append("</tr>\n");
        }
        return h.append("</table>\n").toString();
    }

    static String num(long v) {
        return "<td class=\"num\">" + (v < 0 ? "" : Long.toString(v)) + "</td>";
    }

    static String num(double v, int decimals) {
        return "<td class=\"num\">" + format(v, decimals) + "</td>";
    }

    static String format(double v, int decimals) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
