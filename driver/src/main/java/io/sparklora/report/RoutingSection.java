package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * The report's "Routing" section: the accuracy of the router {@code train} fitted ({@code router.json}, used by
 * {@code model: "auto"}) on each partition's held-out windows, from the manifest's {@code router} entry. Empty when
 * the output has no router (random shards, a single adapter, an output written before routers existed). The entry has
 * no typed record (it is {@link io.sparklora.output.ManifestFile#router}'s tree): absent fields show as "-" or 0.
 */
final class RoutingSection {
    private static final String PREFIX = "accuracy_first_32_tokens"; // RouterFit's short-prompt figure
    private RoutingSection() {
    }

    /** The section of the manifest's {@code router} entry ({@link TrainOutput#router}); empty when it is null. */
    static String html(JsonNode router) {
        if (router == null || !router.isObject()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<h2>Routing</h2>\n<p>The router <code>")
                .append(HtmlReport.escape(router.path("path").asText())).append("</code> (")
                .append(HtmlReport.escape(router.path("kind").asText()))
                .append(") sends a prompt sent as <code>model: \"auto\"</code> to an adapter. Accuracy on each ")
                .append("partition's held-out windows (never trained on), against their true key: ")
                .append(percent(router.path("accuracy"))).append(" over ")
                .append(router.path("held_out_windows").asLong()).append(" windows; ")
                .append(percent(router.path(PREFIX))).append(" on their first 32 tokens alone.</p>\n")
                .append("<table id=\"routing\">\n<tr><th>adapter</th><th>key</th><th>held-out windows</th>")
                .append("<th>routed to it</th><th>accuracy</th><th>first 32 tokens</th><th>mistaken for</th></tr>\n");
        for (JsonNode a : router.path("per_adapter")) {
            String name = a.path("name").asText();
            StringBuilder wrong = new StringBuilder();
            router.path("confusion").path(name).fields().forEachRemaining(e -> {
                if (!e.getKey().equals(name)) {
                    wrong.append(wrong.length() == 0 ? "" : ", ").append(HtmlReport.escape(e.getKey())).append(" (")
                            .append(e.getValue().asLong()).append(')');
                }
            });
            h.append("<tr><td>").append(HtmlReport.escape(name)).append("</td><td>")
                    .append(HtmlReport.escape(a.path("key").asText(""))).append("</td><td class=\"num\">")
                    .append(a.path("held_out_windows").asLong()).append("</td><td class=\"num\">")
                    .append(a.path("correct").asLong()).append("</td><td class=\"num\">")
                    .append(percent(a.path("accuracy"))).append("</td><td class=\"num\">")
                    .append(percent(a.path(PREFIX))).append("</td><td>").append(wrong).append("</td></tr>\n");
        }
        return h.append("</table>\n").toString();
    }

    private static String percent(JsonNode accuracy) {
        return accuracy.isNumber() ? String.format(Locale.ROOT, "%.1f %%", 100 * accuracy.asDouble()) : "-";
    }
}
