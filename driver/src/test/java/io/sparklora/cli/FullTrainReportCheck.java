package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the report of a {@code train --full} output must show, checked against its manifest: {@code report/index.html}
 * has a row per trained model whose cells are the manifest entry's rows, steps, parameters, held-out loss and seconds
 * (as the page rounds them), and a loss-curve PNG per model that the page links.
 */
final class FullTrainReportCheck {
    private static final Pattern ROW = Pattern.compile("<tr>(.*?)</tr>");
    private static final Pattern CELL = Pattern.compile("<t[hd][^>]*>(.*?)</t[hd]>");
    private static final Pattern TAG = Pattern.compile("<[^>]+>");

    private FullTrainReportCheck() {
    }

    /** Checks {@code out/report/} against {@code out/manifest.json}; returns the page. */
    static String check(Path out) throws IOException {
        JsonNode manifest = TrainCommandTest.manifest(out);
        Path index = out.resolve("report/index.html");
        assertTrue(Files.isRegularFile(index), "no " + index);
        String html = Files.readString(index);
        assertTrue(html.contains("<h2>Fine-tuned models</h2>"), html);
        Map<String, Map<String, String>> rows = summary(html);
        assertEquals(manifest.path("models").size(), rows.size(), html);
        for (JsonNode e : manifest.path("models")) {
            String name = e.path("name").asText();
            Map<String, String> row = rows.get(name);
            assertTrue(row != null, "no row for model " + name + " in " + html);
            assertEquals(e.path("key").asText(), row.get("key"));
            assertEquals(e.path("rows").asText(), row.get("rows"));
            assertEquals(e.path("steps").asText(), row.get("steps"));
            assertEquals(e.path("parameters").asText(), row.get("parameters"));
            assertEquals(fixed(e.path("final_held_out_loss").asDouble(), 4), row.get("held-out loss"), name);
            assertEquals(fixed(e.path("base_held_out_loss").asDouble(), 4), row.get("base held-out loss"), name);
            assertEquals(fixed(e.path("seconds").asDouble(), 1), row.get("seconds"), name);
            Path png = out.resolve("report/loss-" + name + ".png");
            assertTrue(Files.size(png) > 1000, "loss curves of " + name);
            assertTrue(html.contains("<img src=\"loss-" + name + ".png\""), html);
        }
        return html;
    }

    /** The summary table: model name → header → cell text. */
    static Map<String, Map<String, String>> summary(String html) {
        int start = html.indexOf("<table id=\"summary\">");
        assertTrue(start >= 0, html);
        String table = html.substring(start, html.indexOf("</table>", start));
        Matcher r = ROW.matcher(table);
        List<String> header = null;
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        while (r.find()) {
            List<String> cells = new ArrayList<>();
            Matcher c = CELL.matcher(r.group(1));
            while (c.find()) {
                cells.add(TAG.matcher(c.group(1)).replaceAll(""));
            }
            if (header == null) {
                header = cells;
                continue;
            }
            assertEquals(header.size(), cells.size(), r.group());
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < cells.size(); i++) {
                row.put(header.get(i), cells.get(i));
            }
            out.put(cells.get(0), row);
        }
        return out;
    }

    private static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
