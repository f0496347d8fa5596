package io.sparklora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparklora.job.StepReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressLinesTest {
    @Test
    void formatsStepLossHeldOutRateAndEta() {
        assertEquals("[pretrain] step 120/2000 loss 2.3141 held-out 2.4012 lr 9.80e-04 8123 tok/s ETA 3m05s",
                ProgressLines.format(new StepReport("pretrain", 120, 2000, 2.31414, 9.8e-4, 1.2, 2.40117, 8123.4,
                        185)));
        assertEquals("[en] step 1/10 loss 5.5000 lr 1.00e-03 10 tok/s ETA 42s",
                ProgressLines.format(new StepReport("en", 1, 10, 5.5, 1e-3, 1, Double.NaN, 10, 41.6)));
        assertEquals("1h02m", ProgressLines.duration(3725));
    }

    @Test
    void printsAboutTheRequestedNumberOfLinesPlusEvaluations() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressLines lines = new ProgressLines(new PrintStream(bytes, true, StandardCharsets.UTF_8), 5);
        for (int step = 1; step <= 100; step++) {
            lines.onStep(new StepReport("a", step, 100, 1, 1e-3, 1, step == 33 ? 1.5 : Double.NaN, 1, 1));
        }
        String[] out = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        // step 1, every 20th step (20..100), and the evaluation at 33
        assertEquals(7, out.length, String.join("\n", out));
        assertEquals("[a] step 33/100 loss 1.0000 held-out 1.5000 lr 1.00e-03 1 tok/s ETA 1s", out[2]);
    }
}
