package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.job.StepReport;
import org.junit.jupiter.api.Test;

class ProgressLogTest {
    @Test
    void lineShowsStepLossSpeedAndEta() {
        assertEquals("adapter en: step 40/200 (20%) loss 2.3124 lr 1.90e-04 12345 tok/s ETA 1m05s",
                ProgressLog.line(new StepReport("en", 40, 200, 2.31244, 1.9e-4, 0.5, Double.NaN, 12345.4, 65.2)));
        assertEquals("adapter fr: step 200/200 (100%) loss 1.0000 held-out 1.2500 lr 2.00e-05 900 tok/s ETA 0s",
                ProgressLog.line(new StepReport("fr", 200, 200, 1.0, 2e-5, 0.5, 1.25, 900, 0)));
        assertEquals("2h01m", ProgressLog.duration(7260));
    }
}
