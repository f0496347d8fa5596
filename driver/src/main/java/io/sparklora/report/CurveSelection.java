package io.sparklora.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which adapters of a large report get loss curves: the {@value #EXTREMES} with the largest held-out gain, the
 * {@value #EXTREMES} with the smallest, and {@value #SAMPLED} spread evenly over the rest in manifest order (a
 * deterministic sample: the same output gives the same page). Everything else is in the overview chart and the
 * full tables.
 */
final class CurveSelection {
    static final int EXTREMES = 3;
    static final int SAMPLED = 6;

    private CurveSelection() {
    }

    /** Adapter name → why it is shown ("best 1", "worst 2", "sample"), in the order the page shows them. */
    static Map<String, String> of(List<AdapterSummary> adapters) {
        List<AdapterSummary> ranked = new ArrayList<>(adapters.stream()
                .filter(a -> !Double.isNaN(GainsChart.gain(a))).toList());
        ranked.sort(Comparator.comparingDouble(GainsChart::gain).reversed().thenComparing(AdapterSummary::name));
        Map<String, String> chosen = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(EXTREMES, ranked.size()); i++) {
            chosen.putIfAbsent(ranked.get(i).name(), "best " + (i + 1));
        }
        for (int i = 0; i < Math.min(EXTREMES, ranked.size()); i++) {
            chosen.putIfAbsent(ranked.get(ranked.size() - 1 - i).name(), "worst " + (i + 1));
        }
        int n = adapters.size();
        for (int i = 0; i < SAMPLED && i < n; i++) {
            chosen.putIfAbsent(adapters.get((int) ((long) i * n / SAMPLED + n / (2L * SAMPLED))).name(), "sample");
        }
        return chosen;
    }
}
