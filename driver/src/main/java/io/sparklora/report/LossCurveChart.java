package io.sparklora.report;

import io.sparklora.job.LossPoint;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The loss curves of one adapter: training loss per step and held-out loss per evaluation, against the step. */
public final class LossCurveChart {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    /** Above this many training points the training curve is drawn as a plain line. */
    private static final int MARKED_POINTS = 40;

    /** Above this many training points a moving average is drawn over the per-step curve. */
    private static final int SMOOTHED_ABOVE = 200;

    static final Color TRAIN_LIGHT = new Color(0xa6, 0xc8, 0xe8);
    static final Color TRAIN = new Color(0x1f, 0x77, 0xb4);
    static final Color HELD_OUT = new Color(0xd6, 0x27, 0x28);

    private LossCurveChart() {
    }

    /** Renders the curves; at least one of the two histories must have a point. */
    public static BufferedImage render(AdapterSummary adapter) {
        Charts.headless();
        List<LossPoint> train = adapter.trainHistory();
        List<LossPoint> heldOut = adapter.heldOutHistory();
        if (train.isEmpty() && heldOut.isEmpty()) {
            throw new IllegalArgumentException("Cannot plot the loss of adapter " + adapter.name()
                    + ": it has no recorded loss history");
        }
        XYChart chart = new XYChart(WIDTH, HEIGHT);
        String subtitle = heldOut.isEmpty() ? " (no held-out rows)" : "";
        chart.setTitle("Loss of adapter \"" + adapter.name() + "\"" + subtitle);
        chart.setXAxisTitle("optimizer step");
        chart.setYAxisTitle("mean cross-entropy (nats per token)");
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisTickMarkSpacingHint(90);
        // XChart puts the x ticks on the data points themselves when all x values are equally spaced (steps 1..N),
        // which gives ticks such as 1, 168, 335; an invisible point at step 0.5 restores round tick values.
        List<LossPoint> first = train.isEmpty() ? heldOut : train;
        XYSeries spacer = chart.addSeries(" ", new double[] {0.5}, new double[] {first.get(0).loss()});
        spacer.setMarker(SeriesMarkers.NONE);
        spacer.setShowInLegend(false);
        if (train.size() > SMOOTHED_ABOVE) {
            // Per-step losses of a long run are a noisy band; the moving average shows the trend through it.
            int window = Math.max(5, train.size() / 50);
            XYSeries raw = chart.addSeries("train (per step)", steps(train), losses(train));
            raw.setLineColor(TRAIN_LIGHT);
            raw.setLineStyle(new BasicStroke(1f));
            raw.setMarker(SeriesMarkers.NONE);
            XYSeries avg = chart.addSeries("train (mean of " + window + " steps)", steps(train),
                    movingAverage(losses(train), window));
            avg.setLineColor(TRAIN);
            avg.setLineStyle(new BasicStroke(2.5f));
            avg.setMarker(SeriesMarkers.NONE);
        } else if (!train.isEmpty()) {
            XYSeries s = chart.addSeries("train (per step)", steps(train), losses(train));
            s.setLineColor(TRAIN);
            s.setMarkerColor(TRAIN);
            s.setLineStyle(new BasicStroke(2f));
            s.setMarker(train.size() <= MARKED_POINTS ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        if (!heldOut.isEmpty()) {
            XYSeries s = chart.addSeries("held-out", steps(heldOut), losses(heldOut));
            s.setLineColor(HELD_OUT);
            s.setMarkerColor(HELD_OUT);
            s.setLineStyle(new BasicStroke(2.5f));
            s.setMarker(heldOut.size() <= MARKED_POINTS ? SeriesMarkers.DIAMOND : SeriesMarkers.NONE);
        }
        chart.getStyler().setMarkerSize(8);
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static double[] steps(List<LossPoint> points) {
        double[] x = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = points.get(i).step();
        }
        return x;
    }

    /** Mean of the last {@code window} values at each index (fewer at the start). */
    static double[] movingAverage(double[] y, int window) {
        double[] out = new double[y.length];
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += y[i];
            if (i >= window) {
                sum -= y[i - window];
            }
            out[i] = sum / Math.min(i + 1, window);
        }
        return out;
    }

    private static double[] losses(List<LossPoint> points) {
        double[] y = new double[points.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = points.get(i).loss();
        }
        return y;
    }
}
