package io.sparklora.report;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code index.html} of a report with many adapters: how many improved on their held-out rows and the median
 * gain, the overview chart of every gain, a table and loss curves of the adapters {@link CurveSelection} picked (best,
 * worst, sampled), links to the full tables, and the cross-evaluation when there is one. Its size does not grow with
 * the number of adapters (the eval table aside).
 */
final class OverviewPage {
    private OverviewPage() {
    }

    /**
     * @param output  the adapters, those in {@code shown} with their histories
     * @param shown   adapter name → why it is shown
     * @param curves  adapter name → loss-curve PNG
     * @param gains   the overview chart's file, or null when no adapter has a gain
     * @param exploration the rank search and plane sections (HTML, possibly empty)
     * @param location    where the output is, as the user named it
     */
    static String render(TrainOutput output, Map<String, String> shown, Map<String, String> curves, String gains,
                         EvalMatrix eval, String heatmap, String exploration, String location, String generated) {
        StringBuilder h = HtmlReport.head(location, generated);
        double[] g = output.adapters().stream().mapToDouble(GainsChart::gain).filter(v -> !Double.isNaN(v)).sorted()
                .toArray();
        long improved = Arrays.stream(g).filter(v -> v > 0).count();
        h.append("<h2>").append(output.entries().heading()).append("</h2>\n<p id=\"overview\">")
                .append(output.adapters().size()).append(" ").append(output.entries().noun()).append("s; ");
        if (g.length > 0) {
            h.append(improved).append(" of ").append(g.length).append(" with a held-out loss improved on the base ")
                    .append("model (median gain ").append(String.format(Locale.ROOT, "%.4f", median(g)))
                    .append(" nats per token, from ").append(String.format(Locale.ROOT, "%.4f", g[0])).append(" to ")
                    .append(String.format(Locale.ROOT, "%.4f", g[g.length - 1])).append(").");
        } else {
            h.append("none has a held-out loss.");
        }
        h.append(" Every adapter is in <a href=\"").append(AdapterTables.CSV).append("\">").append(AdapterTables.CSV)
                .append("</a> and <a href=\"").append(AdapterTables.JSON).append("\">").append(AdapterTables.JSON)
                .append("</a>; the manifest has their files and fingerprints.</p>\n");
        if (gains != null) {
            h.append("<img src=\"").append(HtmlReport.escape(gains)).append("\" alt=\"held-out gain of every ")
                    .append("adapter, best to worst\">\n");
        }
        h.append("<h2>Selected ").append(output.entries().noun()).append("s</h2>\n<p>The ")
                .append(CurveSelection.EXTREMES).append(" best and ")
                .append(CurveSelection.EXTREMES).append(" worst by held-out gain and ").append(CurveSelection.SAMPLED)
                .append(" spread evenly over the manifest.</p>\n<table id=\"summary\">\n")
                .append(HtmlReport.summaryHeader(output.entries(), "<th>shown as</th>")).append("<th>gain</th></tr>\n");
        for (AdapterSummary a : output.adapters()) {
            String why = shown.get(a.name());
            if (why != null) {
                h.append(HtmlReport.summaryRow(output.entries(), a, "<td>" + HtmlReport.escape(why) + "</td>"))
                        .append(HtmlReport.num(GainsChart.gain(a), 4)).append("</tr>\n");
            }
        }
        h.append("</table>\n");
        h.append(RoutingSection.html(output.router()));
        h.append(exploration);
        h.append(HtmlReport.evalSection(eval, heatmap));
        h.append("<h2>Loss curves</h2>\n");
        for (AdapterSummary a : output.adapters()) {
            if (shown.containsKey(a.name())) {
                h.append(HtmlReport.curve(a, curves.get(a.name())));
            }
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
