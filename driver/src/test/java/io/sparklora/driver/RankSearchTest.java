package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decisions of --rank auto on hand-made loss sequences. */
class RankSearchTest {
    private static List<RankSearch.Trial> trials(double... losses) {
        List<RankSearch.Trial> out = new ArrayList<>();
        for (int i = 0; i < losses.length; i++) {
            out.add(new RankSearch.Trial(1 << i, losses[i], 1));
        }
        return out;
    }

    @Test
    void doublesWhileItPaysAndKeepsTheSmallestWithinTolerance() {
        RankSearch s = new RankSearch(1, 64, 0.01);
        assertEquals(1, s.next(List.of()));
        assertEquals(2, s.next(trials(3.0)));
        assertEquals(4, s.next(trials(3.0, 2.0)));
        assertEquals(0, s.next(trials(3.0, 2.0, 1.99)), "0.5% better: not worth another doubling");
        assertEquals(2, s.choose(trials(3.0, 2.0, 1.99)), "2.0 is within 1% of 1.99");
        assertEquals(4, s.choose(trials(3.0, 2.0, 1.9)));
        assertEquals(0, s.next(trials(3.0, 3.1)), "worse: stop");
        assertEquals(1, s.choose(trials(3.0, 3.1)));
    }

    @Test
    void neverPastTheMaximumAndStartsAtTheMinimum() {
        RankSearch s = new RankSearch(3, 10, 0.0);
        assertEquals(3, s.next(List.of()));
        List<RankSearch.Trial> t = new ArrayList<>(List.of(new RankSearch.Trial(3, 5, 1)));
        assertEquals(6, s.next(t));
        t.add(new RankSearch.Trial(6, 4, 1));
        assertEquals(10, s.next(t), "12 is past --rank-max 10");
        t.add(new RankSearch.Trial(10, 3, 1));
        assertEquals(0, s.next(t));
        assertEquals(10, s.choose(t));
    }

    @Test
    void badSettingsAreRefused() {
        assertEquals("Invalid --rank-min 0: must be >= 1",
                assertThrows(IllegalArgumentException.class, () -> new RankSearch(0, 4, 0.01)).getMessage());
        assertEquals("Invalid --rank-max 2: must be >= --rank-min 4",
                assertThrows(IllegalArgumentException.class, () -> new RankSearch(4, 2, 0.01)).getMessage());
        assertEquals("Invalid --rank-tolerance -0.1: must be >= 0 and finite",
                assertThrows(IllegalArgumentException.class, () -> new RankSearch(1, 2, -0.1)).getMessage());
    }
}
