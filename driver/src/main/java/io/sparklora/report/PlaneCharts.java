package io.sparklora.report;

import io.sparklora.driver.Plane;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of a {@code sweep}, drawn from its {@code plane.json} ({@link PlaneSection}): {@code plane-<name>.png}
 * per partition (target sets × ranks, held-out loss in the cells, the full fine-tuning corner as its own row and
 * column) and
 * {@code plane-frontier.png} (held-out loss against trainable parameters, every point and each partition's frontier:
 * the points no smaller point beats).
 */
final class PlaneCharts {
    static final String FRONTIER = "plane-frontier.png";
    private static final String FULL = Plane.FULL;
    private static final String FULL_ROW = "full fine-tuning";

    private PlaneCharts() {
    }

    /** The heat map's file name of a partition (before {@link ReportWriter} makes it unique). */
    static String heatmapFile(String name) {
        return "plane-" + ReportWriter.fileSafe(name);
    }

    /** Whether a partition has a point to draw (a heat map of only failed points has no scale). */
    static boolean drawable(List<Plane.Point> points) {
        return points.stream().anyMatch(p -> Double.isFinite(p.heldOutLoss()));
    }

    /** The heat map's columns: the ranks in increasing order, then {@code full} when the corner is there. */
    static List<String> columns(List<Plane.Point> points) {
        List<String> columns = new ArrayList<>();
        for (Plane.Point p : points) {
            if (!p.full() && !columns.contains(column(p))) {
                columns.add(column(p));
            }
        }
        columns.sort(Comparator.comparingInt(Integer::parseInt));
        if (points.stream().anyMatch(Plane.Point::full)) {
            columns.add(FULL);
        }
        return columns;
    }

    /** The heat map's rows, top to bottom: the target sets in file order, the corner's own row among them. */
    static List<String> rows(List<Plane.Point> points) {
        List<String> rows = new ArrayList<>();
        for (Plane.Point p : points) {
            if (!rows.contains(row(p))) {
                rows.add(row(p));
            }
        }
        return rows;
    }

    /**
     * A partition's frontier: its finite points by increasing trainable parameters (a tie to the lower loss) that
     * have a lower loss than every smaller point.
     */
    static List<Plane.Point> frontierOf(List<Plane.Point> points) {
        List<Plane.Point> finite = new ArrayList<>(points.stream().filter(p -> Double.isFinite(p.heldOutLoss()))
                .toList());
        finite.sort(Comparator.comparingLong(Plane.Point::trainableParams)
                .thenComparingDouble(Plane.Point::heldOutLoss));
        List<Plane.Point> frontier = new ArrayList<>();
        double lowest = Double.POSITIVE_INFINITY;
        for (Plane.Point p : finite) {
            if (p.heldOutLoss() < lowest) { // no smaller point is at least as good: on the frontier
                lowest = p.heldOutLoss();
                frontier.add(p);
            }
        }
        return frontier;
    }

    static BufferedImage heatmap(String name, List<Plane.Point> points) {
        List<String> columns = columns(points);
        List<String> rows = rows(points);
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
        for (Plane.Point p : points) {
            if (!Double.isFinite(p.heldOutLoss())) {
                continue;
            }
            double v = p.heldOutLoss();
            cells.add(new Number[] {columns.indexOf(column(p)), yLabels.indexOf(row(p)), v});
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

    static BufferedImage frontier(Map<String, List<Plane.Point>> byName) {
        XYChart chart = new XYChartBuilder().width(960).height(600).build();
        chart.setTitle("Held-out loss against trainable parameters");
        chart.setXAxisTitle("trainable parameters (log scale)");
        chart.setYAxisTitle("held-out loss");
        Charts.style(chart.getStyler());
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        java.awt.Color[] palette = new org.knowm.xchart.style.theme.XChartTheme().getSeriesColors();
        int n = 0;
        for (Map.Entry<String, List<Plane.Point>> e : byName.entrySet()) {
            java.awt.Color colour = palette[n++ % palette.length];
            List<Plane.Point> finite = new ArrayList<>(e.getValue().stream()
                    .filter(p -> Double.isFinite(p.heldOutLoss())).toList());
            if (finite.isEmpty()) {
                continue;
            }
            List<Plane.Point> frontier = frontierOf(finite);
            List<Double> fx = frontier.stream().map(p -> (double) p.trainableParams()).toList();
            List<Double> fy = frontier.stream().map(Plane.Point::heldOutLoss).toList();
            XYSeries all = chart.addSeries(e.getKey() + " (points)",
                    finite.stream().map(p -> (double) p.trainableParams()).toList(),
                    finite.stream().map(Plane.Point::heldOutLoss).toList());
            all.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            all.setMarkerColor(colour);
            XYSeries line = chart.addSeries(e.getKey() + " frontier", fx, fy);
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(colour); // a partition's points and frontier in one colour
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static String column(Plane.Point p) {
        return p.full() ? FULL : Integer.toString(p.rank());
    }

    private static String row(Plane.Point p) {
        return p.full() ? FULL_ROW : p.targetsId();
    }
}
