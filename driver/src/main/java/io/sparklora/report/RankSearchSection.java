package io.sparklora.report;

import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The "Rank search" section of a {@code train --rank auto} output and its table {@code rank-search.csv}: per adapter
 * the ranks tried with their held-out loss and seconds, and the rank chosen, as the manifest entries record them
 * ({@code "rank": 2, "rank_search": [{"rank": 1, "held_out_loss": 0.79, "seconds": 3.1}, ...]}).
 */
final class RankSearchSection {
    static final String CSV = "rank-search.csv";

    /** One rank tried; {@code heldOutLoss} NaN when that round failed. */
    record Trial(int rank, double heldOutLoss, double seconds) {
    }

    /** One adapter's search; {@code chosen} -1 when the search failed (no rank was published). */
    record Search(String adapter, int chosen, List<Trial> trials) {
        Search {
            trials = List.copyOf(trials);
        }
    }

    private RankSearchSection() {
    }

    /**
     * The search of one manifest entry ({@code field} names it in {@code where}'s messages), or null when the entry
     * has no {@code rank_search}.
     */
    static Search read(ManifestFile.Adapter entry, String where, String field) throws IOException {
        List<ManifestFile.RankTrial> list = entry.rankSearch();
        if (list == null) {
            return null;
        }
        List<Trial> trials = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = field + ".rank_search[" + i + "]";
            ManifestFile.RankTrial t = list.get(i);
            if (t == null) {
                throw TrainOutput.bad(where, at, "is null: expected an object");
            }
            if (t.rank() < 1) {
                throw TrainOutput.bad(where, at + ".rank", "is not a positive whole number: " + t.rank());
            }
            trials.add(new Trial(t.rank(), t.heldOutLoss() == null ? Double.NaN : t.heldOutLoss(), t.seconds()));
        }
        boolean failed = entry.isFailed();
        Integer rank = entry.rank();
        if (!failed && trials.stream().noneMatch(t -> rank != null && t.rank() == rank)) {
            throw TrainOutput.bad(where, field + ".rank", "is " + rank + ", not one of the ranks in rank_search");
        }
        return new Search(entry.name(), failed ? -1 : rank, trials);
    }

    /** adapter,rank,held_out_loss,seconds,chosen — one line per rank tried. */
    static String csv(List<Search> searches) {
        StringBuilder csv = new StringBuilder("adapter,rank,held_out_loss,seconds,chosen\n");
        for (Search s : searches) {
            for (Trial t : s.trials()) {
                csv.append(AdapterTables.csv(s.adapter())).append(',').append(t.rank()).append(',')
                        .append(Double.isNaN(t.heldOutLoss()) ? "" : Double.toString(t.heldOutLoss())).append(',')
                        .append(Double.isNaN(t.seconds()) ? "" : Double.toString(t.seconds())).append(',')
                        .append(t.rank() == s.chosen()).append('\n');
            }
        }
        return csv.toString();
    }

    /**
     * The section: up to {@link ReportWriter#CURVES_FOR_ALL} adapters a table of every rank tried (the chosen one in
     * bold); past that, how many adapters chose each rank (the CSV has every trial).
     */
    static String html(List<Search> searches) {
        if (searches.isEmpty()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<h2>Rank search</h2>\n<p>Each adapter trained its smallest rank, ")
                .append("doubled it while the held-out loss improved by more than the tolerance, and kept the ")
                .append("smallest rank within the tolerance of the best; every rank tried is in <a href=\"")
                .append(CSV).append("\">").append(CSV).append("</a>.</p>\n");
        if (searches.size() > ReportWriter.CURVES_FOR_ALL) {
            Map<Integer, Integer> byRank = new TreeMap<>();
            searches.forEach(s -> byRank.merge(s.chosen(), 1, Integer::sum));
            h.append("<table id=\"rank-search\">\n<tr><th>chosen rank</th><th>adapters</th></tr>\n");
            byRank.forEach((rank, n) -> h.append("<tr><td class=\"num\">").append(rank < 0 ? "failed" : rank)
                    .append("</td>").append(HtmlReport.num(n)).append("</tr>\n"));
            return h.append("</table>\n").toString();
        }
        h.append("<table id=\"rank-search\">\n<tr><th>adapter</th><th>chosen rank</th><th>rank</th>")
                .append("<th>held-out loss</th><th>seconds</th></tr>\n");
        for (Search s : searches) {
            for (int i = 0; i < s.trials().size(); i++) {
                Trial t = s.trials().get(i);
                h.append("<tr>");
                if (i == 0) {
                    String span = " rowspan=\"" + s.trials().size() + "\"";
                    h.append("<td").append(span).append(">").append(HtmlReport.escape(s.adapter())).append("</td><td")
                            .append(span).append(" class=\"num\">").append(s.chosen() < 0 ? "failed" : s.chosen())
                            .append("</td>");
                }
                String rank = Integer.toString(t.rank());
                String loss = Double.isNaN(t.heldOutLoss()) ? "failed" : HtmlReport.format(t.heldOutLoss(), 4);
                boolean chosen = t.rank() == s.chosen();
                h.append("<td class=\"num\">").append(chosen ? "<b>" + rank + "</b>" : rank).append("</td>")
                        .append("<td class=\"num\">").append(chosen ? "<b>" + loss + "</b>" : loss).append("</td>")
                        .append(HtmlReport.num(t.seconds(), 1)).append("</tr>\n");
            }
        }
        return h.append("</table>\n").toString();
    }
}
