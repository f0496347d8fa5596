package io.sparklora.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The overview of a report with many adapters, readable at 10,000: every adapter's held-out gain (the base model's
 * held-out loss minus the adapter's, on the adapter's own held-out rows; above zero the adapter helps), sorted from
 * best to worst, as one curve against the adapter's rank, with the zero line. One chart instead of one per adapter.
 */
final class GainsChart {
    static final int WIDTH = 1000;
    static final int HEIGHT = 500;
    private static final Color GAIN = new Color(0x2c, 0xa0, 0x2c);

    private GainsChart() {
    }

    /** The gain of an adapter, NaN when it has no held-out loss or no base loss. */
    static double gain(AdapterSummary a) {
        return a.baseHeldOutLoss() - a.heldOutLoss();
    }

    /** Renders the sorted gains of {@code adapters} (those without a gain are left out and counted in the title). */
    static BufferedImage render(List<AdapterSummary> adapters) {
        Charts.headless();
        double[] gains = adapters.stream().mapToDouble(GainsChart::gain).filter(g -> !Double.isNaN(g)).toArray();
        if (gains.length == 0) {
            throw new IllegalArgumentException("Cannot plot the gains of " + adapters.size() + " adapters: none has "
                    + "both a held-out loss and the base model's");
        }
        java.util.Arrays.sort(gains);
        double[] x = new double[gains.length];
        double[] y = new double[gains.length];
        for (int i = 0; i < gains.length; i++) {
            x[i] = i + 1;
            y[i] = gains[gains.length - 1 - i]; // best first
        }
        XYChart chart = new XYChart(WIDTH, HEIGHT);
        int missing = adapters.size() - gains.length;
        chart.setTitle("Held-out gain of " + gains.length + " adapters, best to worst"
                + (missing > 0 ? " (" + missing + " without held-out loss)" : ""));
        chart.setXAxisTitle("adapter, by rank of gain");
        chart.setYAxisTitle("base loss - adapter loss (nats per token)");
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisDecimalPattern("0.000");
        XYSeries s = chart.addSeries("gain", x, y);
        s.setLineColor(GAIN);
        s.setLineStyle(new BasicStroke(2f));
        s.setMarker(gains.length <= 40 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        s.setMarkerColor(GAIN);
        XYSeries zero = chart.addSeries("no gain", new double[] {1, Math.max(2, gains.length)}, new double[] {0, 0});
        zero.setLineColor(Color.GRAY);
        zero.setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 4f}, 0f));
        zero.setMarker(SeriesMarkers.NONE);
        return BitmapEncoder.getBufferedImage(chart);
    }
}
