package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of a {@code sweep}, drawn from its plane JSON: {@code plane-<name>.png} per partition (target sets ×
 * ranks, held-out loss in the cells, the full fine-tuning corner as its own row and column) and
 * {@code plane-frontier.png} (held-out loss against trainable parameters, every point and each partition's frontier:
 * the points no smaller point beats).
 */
public final class PlaneCharts {
    public static final String FRONTIER = "plane-frontier.png";
    private static final String FULL = "full";
    private static final String FULL_ROW = "full fine-tuning";

    private PlaneCharts() {
    }

    /** Writes the charts into {@code <out>/report/}; returns the file names written. */
    public static List<String> write(JsonNode plane, String outUri, Configuration conf) throws IOException {
        Charts.headless();
        Map<String, List<JsonNode>> byName = new LinkedHashMap<>();
        for (JsonNode p : plane.path("points")) {
            byName.computeIfAbsent(p.path("name").asText(), k -> new ArrayList<>()).add(p);
        }
        Path report = new Path(outUri, "report");
        FileSystem fs = report.getFileSystem(conf);
        List<String> written = new ArrayList<>();
        for (Map.Entry<String, List<JsonNode>> e : byName.entrySet()) {
            String file = "plane-" + e.getKey().replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
            put(fs, new Path(report, file), heatmap(e.getKey(), e.getValue()));
            written.add(file);
        }
        put(fs, new Path(report, FRONTIER), frontier(byName));
        written.add(FRONTIER);
        return written;
    }

    static BufferedImage heatmap(String name, List<JsonNode> points) {
        List<String> columns = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        for (JsonNode p : points) {
            String column = p.path("rank").asText();
            String row = column.equals(FULL) ? FULL_ROW : p.path("targets_id").asText();
            if (!column.equals(FULL) && !columns.contains(column)) {
                columns.add(column);
            }
            if (!rows.contains(row)) {
                rows.add(row);
            }
        }
        columns.sort(Comparator.comparingInt(Integer::parseInt));
        if (rows.contains(FULL_ROW)) {
            columns.add(FULL);
        }
        int longest = rows.stream().mapToInt(String::length).max().orElse(0);
        HeatMapChart chart = new HeatMapChartBuilder().width(Math.max(760, 300 + 9 * longest + 110 * columns.size()))
                .height(Math.max(420, 230 + 56 * rows.size())).build();
        chart.setTitle("Held-out loss of " + name + " over the plane");
        chart.setXAxisTitle("rank (full = full fine-tuning)");
        chart.setYAxisTitle("target modules");
        EvalHeatmapChart.lossStyle(chart);
        List<String> yLabels = new ArrayList<>(rows);
        java.util.Collections.reverse(yLabels); // the y axis grows upward: the first target set on top
        List<Number[]> cells = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (JsonNode p : points) {
            if (!p.path("held_out_loss").isNumber()) {
                continue;
            }
            String column = p.path("rank").asText();
            String row = column.equals(FULL) ? FULL_ROW : p.path("targets_id").asText();
            double v = p.path("held_out_loss").asDouble();
            cells.add(new Number[] {columns.indexOf(column), yLabels.indexOf(row), v});
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (cells.isEmpty()) {
            throw new IllegalArgumentException("Cannot plot the plane of " + name + ": no point has a held-out loss");
        }
        chart.getStyler().setMin(Math.floor(min * 1000) / 1000);
        chart.getStyler().setMax(Math.max(Math.ceil(max * 1000) / 1000, Math.floor(min * 1000) / 1000 + 0.001));
        chart.addSeries("held-out loss", columns, yLabels, cells);
        return BitmapEncoder.getBufferedImage(chart);
    }

    static BufferedImage frontier(Map<String, List<JsonNode>> byName) {
        XYChart chart = new XYChartBuilder().width(960).height(600).build();
        chart.setTitle("Held-out loss against trainable parameters");
        chart.setXAxisTitle("trainable parameters (log scale)");
        chart.setYAxisTitle("held-out loss");
        Charts.style(chart.getStyler());
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        java.awt.Color[] palette = new org.knowm.xchart.style.theme.XChartTheme().getSeriesColors();
        int n = 0;
        for (Map.Entry<String, List<JsonNode>> e : byName.entrySet()) {
            java.awt.Color colour = palette[n++ % palette.length];
            List<JsonNode> finite = new ArrayList<>(e.getValue().stream()
                    .filter(p -> p.path("held_out_loss").isNumber()).toList());
            if (finite.isEmpty()) {
                continue;
            }
            finite.sort(Comparator.comparingLong((JsonNode p) -> p.path("trainable_params").asLong())
                    .thenComparingDouble(p -> p.path("held_out_loss").asDouble()));
            List<Double> fx = new ArrayList<>();
            List<Double> fy = new ArrayList<>();
            double lowest = Double.POSITIVE_INFINITY;
            for (JsonNode p : finite) {
                double loss = p.path("held_out_loss").asDouble();
                if (loss < lowest) { // no smaller point is at least as good: on the frontier
                    lowest = loss;
                    fx.add((double) p.path("trainable_params").asLong());
                    fy.add(loss);
                }
            }
            XYSeries all = chart.addSeries(e.getKey() + " (points)",
                    finite.stream().map(p -> (double) p.path("trainable_params").asLong()).toList(),
                    finite.stream().map(p -> p.path("held_out_loss").asDouble()).toList());
            all.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            all.setMarkerColor(colour);
            XYSeries line = chart.addSeries(e.getKey() + " frontier", fx, fy);
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(colour); // a partition's points and frontier in one colour
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** PNG bytes to a temporary name beside the file, then renamed over it. */
    private static void put(FileSystem fs, Path file, BufferedImage image) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) {
            throw new IOException("No PNG writer for " + file);
        }
        Path tmp = new Path(file.getParent(), "_tmp-" + file.getName());
        try (OutputStream o = fs.create(tmp, true)) {
            o.write(bytes.toByteArray());
        }
        fs.delete(file, false);
        if (!fs.rename(tmp, file)) {
            throw new IOException("Cannot rename " + tmp + " to " + file);
        }
    }
}
