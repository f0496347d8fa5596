package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.driver.Plane;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the plane's charts draw, worked out by hand for one partition: the heat map's grid (ranks in order, the full
 * corner its own column and row) and the frontier (the points no smaller point beats; failed points left out).
 */
class PlaneChartsTest {
    private static Plane.Point point(String targets, Integer rank, long params, double loss) {
        return new Plane.Point("de", "de", targets, List.of(targets), rank, "points/x/de", params, 4 * params, loss,
                1.0);
    }

    // in file order: rank 4 before rank 1, the corner in the middle, a failed point, a tie on parameters
    private static final List<Plane.Point> DE = List.of(
            point("q_proj+v_proj", 4, 8192, 1.525),
            point("q_proj+v_proj", 1, 2048, 1.70),
            point(Plane.FULL, null, 857_216, 1.60),
            point("all-linear", 1, 9760, 1.52),
            point("all-linear", 16, 156_160, Double.NaN),
            point("all-linear", 4, 39_040, 1.50),
            point("k_proj", 4, 8192, 1.51));

    @Test
    void theHeatMapHasTheRanksInOrderThenTheFullCornerAsItsOwnColumnAndRow() {
        assertEquals(List.of("1", "4", "16", "full"), PlaneCharts.columns(DE));
        assertEquals(List.of("q_proj+v_proj", "full fine-tuning", "all-linear", "k_proj"), PlaneCharts.rows(DE));
        List<Plane.Point> loraOnly = DE.stream().filter(p -> !p.full()).toList();
        assertEquals(List.of("1", "4", "16"), PlaneCharts.columns(loraOnly));
    }

    @Test
    void theFrontierIsThePointsNoSmallerPointBeats() {
        // 2048: 1.70; 8192 has two points, k_proj (1.51) first; then q_proj+v_proj r4 (1.525), all-linear r1 (1.52)
        // and the corner (1.60) do not beat 1.51, all-linear r4 (1.50) does; the failed r16 is not drawn
        assertEquals(List.of(2048L, 8192L, 39_040L), PlaneCharts.frontierOf(DE).stream()
                .map(Plane.Point::trainableParams).toList());
        assertEquals(List.of(1.70, 1.51, 1.50), PlaneCharts.frontierOf(DE).stream().map(Plane.Point::heldOutLoss)
                .toList());
    }
}
