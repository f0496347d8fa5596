package io.sparklora.report;

import java.awt.Color;
import java.awt.Font;
import org.knowm.xchart.style.Styler;

/** What every report chart shares: headless rendering and fonts large enough to read at the PNG's natural size. */
final class Charts {
    private Charts() {
    }

    /**
     * Makes AWT render without a display. Must run before the first AWT class initialises; Java then needs only
     * fontconfig and one installed font (Debian: {@code fontconfig fonts-dejavu-core}).
     */
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    static void style(Styler styler) {
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
        styler.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        styler.setAntiAlias(true);
        styler.setChartTitleBoxVisible(false);
        styler.setPlotBorderVisible(true);
        if (styler instanceof org.knowm.xchart.style.AxesChartStyler axes) {
            axes.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 16));
            axes.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            axes.setPlotGridLinesColor(new Color(0xdd, 0xdd, 0xdd));
        }
    }
}
