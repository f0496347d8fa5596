package io.sparklora.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.style.HeatMapStyler;
import org.knowm.xchart.style.Styler;

/**
 * The cross-evaluation matrix as a heat map: one row per model (the base and each adapter), one column per partition,
 * each cell coloured by mean held-out loss and annotated with its value; a colour bar gives the scale.
 */
public final class EvalHeatmapChart {
    private static final int CELL_WIDTH = 110;
    private static final int CELL_HEIGHT = 56;
    /** DejaVu Sans at 14 pt averages about 8.5 pixels per character; rounded up. */
    private static final int LABEL_PIXELS_PER_CHAR = 9;
    /** Light colours from low loss (green) to high (orange), so the black cell values stay readable on all of them. */
    private static final Color[] RANGE = {new Color(0x66, 0xbd, 0x63), new Color(0xd9, 0xef, 0x8b),
        new Color(0xff, 0xff, 0xbf), new Color(0xfe, 0xe0, 0x8b), new Color(0xf4, 0x6d, 0x43)};

    /** Beyond this many rows or columns the cells are too small to read: the report shows the table alone. */
    public static final int MAX_MODELS = 60;
    public static final int MAX_PARTITIONS = 40;

    private EvalHeatmapChart() {
    }

    /** Whether the matrix is small enough to draw readably. */
    public static boolean fits(EvalMatrix m) {
        return m.models().size() <= MAX_MODELS && m.partitions().size() <= MAX_PARTITIONS;
    }

    /** Pixel width of the image: room for every column's cell and label, and for the longest row label. */
    public static int width(EvalMatrix m) {
        return Math.max(760, 250 + labelWidth(m.models()) + cellWidth(m) * m.partitions().size());
    }

    /** Wide enough for the column labels up to 20 characters; longer ones are drawn slanted. */
    private static int cellWidth(EvalMatrix m) {
        return Math.max(CELL_WIDTH, Math.min(LABEL_PIXELS_PER_CHAR * 20, labelWidth(m.partitions()) + 16));
    }

    /** Approximate pixel width of the longest label at the tick-label font size. */
    private static int labelWidth(List<String> labels) {
        int longest = labels.stream().mapToInt(String::length).max().orElse(0);
        return LABEL_PIXELS_PER_CHAR * longest;
    }

    /** Pixel height of the image for a matrix with this many models. */
    public static int height(EvalMatrix m) {
        return Math.max(420, 230 + CELL_HEIGHT * m.models().size() + (slanted(m) ? labelWidth(m.partitions()) : 0));
    }

    private static boolean slanted(EvalMatrix m) {
        return labelWidth(m.partitions()) + 16 > cellWidth(m);
    }

    /** The style of a heat map of losses: values in the cells, green (low) to orange (high), a colour bar. */
    static HeatMapStyler lossStyle(HeatMapChart chart) {
        HeatMapStyler styler = chart.getStyler();
        Charts.style(styler);
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setShowValue(true);
        styler.setValueFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        styler.setValueFontColor(Color.BLACK);
        styler.setHeatMapValueDecimalPattern("0.000");
        styler.setRangeColors(RANGE);
        styler.setPiecewise(false);
        styler.setDrawBorder(true);
        styler.setPlotGridLinesVisible(false);
        return styler;
    }

    public static BufferedImage render(EvalMatrix m) {
        Charts.headless();
        HeatMapChart chart = new HeatMapChartBuilder().width(width(m)).height(height(m)).build();
        chart.setTitle("Held-out loss by model and partition");
        chart.setXAxisTitle("partition evaluated (mean loss of its held-out rows, nats per token)");
        chart.setYAxisTitle("model");
        HeatMapStyler styler = lossStyle(chart);
        styler.setGradientColorColumnWeight(18);
        if (slanted(m)) {
            styler.setXAxisLabelRotation(45);
        }

        // The y axis grows upward: add the models in reverse so the first row of the matrix is drawn at the top.
        int rows = m.models().size();
        List<String> yLabels = new ArrayList<>();
        for (int r = rows - 1; r >= 0; r--) {
            yLabels.add(m.models().get(r));
        }
        List<Number[]> cells = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < m.partitions().size(); c++) {
                double v = m.loss(r, c);
                if (Double.isFinite(v)) {
                    cells.add(new Number[] {c, rows - 1 - r, v});
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        if (cells.isEmpty()) {
            throw new IllegalArgumentException("Cannot plot the eval matrix: no cell has a finite loss");
        }
        // The colour bar prints its two ends as they are: round them outward to the cells' three decimals.
        min = Math.floor(min * 1000) / 1000;
        max = Math.ceil(max * 1000) / 1000;
        if (max == min) {
            max = min + 0.001;
        }
        styler.setMin(min);
        styler.setMax(max);
        chart.addSeries("mean loss", new ArrayList<>(m.partitions()), yLabels, cells);
        return BitmapEncoder.getBufferedImage(chart);
    }
}
