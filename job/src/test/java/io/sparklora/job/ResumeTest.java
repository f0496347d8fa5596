package io.sparklora.job;

import static io.sparklora.job.TrainerFixtures.adapter;
import static io.sparklora.job.TrainerFixtures.loraAllLinear;
import static io.sparklora.job.TrainerFixtures.pack;
import static io.sparklora.job.TrainerFixtures.repeatedSentence;
import static io.sparklora.job.TrainerFixtures.tinyBase;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.nn.CausalLms;
import io.sparklora.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interrupt at step k, start again on the checkpoint, and end with exactly the uninterrupted run's adapter. */
class ResumeTest {
    private static final int STEPS = 12;

    /** Dropout, gradient accumulation, several epochs (22 windows, 8 per step), evaluation every 3 steps. */
    private static TrainSpec spec() {
        return TrainSpec.lora("cat", loraAllLinear(4, 0.1)).steps(STEPS).batchSize(4).seqLen(32).learningRate(5e-3)
                .warmupSteps(3).gradAccumulation(2).evalEvery(3).checkpointEvery(4).weightDecay(0.01).seed(5).build();
    }

    private static PackedData data() {
        return pack("cat", repeatedSentence(12, 2), 32, 0.1, 1);
    }

    private static TrainerCheckpoint store(Path dir) throws IOException {
        return TrainerCheckpoint.at(dir.toUri(), new Configuration());
    }

    private static final class Interrupted extends RuntimeException {
        Interrupted(int step) {
            super("interrupted after step " + step);
        }
    }

    @Test
    void resumeAfterAnInterruptionEqualsTheUninterruptedRunBitForBit(@TempDir Path tmp) throws IOException {
        LoraConfig lora = spec().lora();
        LoraAdapter straight = adapter(lora);
        TrainResult full = new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), straight), data())
                .checkpointTo(store(tmp.resolve("straight"))).run();

        Path dir = tmp.resolve("interrupted");
        LoraAdapter first = adapter(lora);
        // Stops after step 7; the checkpoint of step 4 is the latest, so steps 5-7 are redone on resume.
        assertThrows(Interrupted.class, () -> new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), first),
                data()).checkpointTo(store(dir)).onProgress(r -> {
                    if (r.step() == 7) {
                        throw new Interrupted(7);
                    }
                }).run());
        try (var list = Files.list(dir)) {
            assertEquals(List.of("step-00000004"), list.map(p -> p.getFileName().toString()).toList());
        }

        LoraAdapter resumed = adapter(lora); // fresh A, as a restarted task would build it
        TrainResult second = new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), resumed), data())
                .checkpointTo(store(dir)).run();
        assertEquals(4, second.resumedFromStep());
        List<Parameter> a = straight.parameters();
        List<Parameter> b = resumed.parameters();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).value().toArray(), b.get(i).value().toArray(), a.get(i).name());
        }
        assertEquals(full.trainHistory(), second.trainHistory());
        assertEquals(full.heldOutHistory(), second.heldOutHistory());
        assertEquals(STEPS * 8L * 32 - 4 * 8L * 32, second.tokensTrained());
    }

    @Test
    void aFinishedRunStartedAgainTrainsNothingAndReturnsTheSameAdapter(@TempDir Path tmp) throws IOException {
        LoraConfig lora = spec().lora();
        LoraAdapter once = adapter(lora);
        new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), once), data()).checkpointTo(store(tmp)).run();
        LoraAdapter again = adapter(lora);
        TrainResult r = new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), again), data())
                .checkpointTo(store(tmp)).run();
        assertEquals(STEPS, r.resumedFromStep());
        assertEquals(0, r.tokensTrained());
        for (int i = 0; i < once.parameters().size(); i++) {
            assertArrayEquals(once.parameters().get(i).value().toArray(), again.parameters().get(i).value().toArray());
        }
    }

    @Test
    void aCheckpointOfOtherDataSettingsOrBaseIsDiscardedWithANoticeAndTheRunStartsOver(@TempDir Path tmp)
            throws IOException {
        LoraConfig lora = spec().lora();
        new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), adapter(lora)), data()).checkpointTo(store(tmp))
                .identifiedBy("base-1").run();
        PackedData otherData = pack("cat", repeatedSentence(12, 3), 32, 0.1, 1);
        TrainSpec otherLr = TrainSpec.lora("cat", lora).steps(STEPS).batchSize(4).seqLen(32).learningRate(1e-3)
                .gradAccumulation(2).build();
        TrainSpec longer = TrainSpec.lora("cat", lora).steps(20).batchSize(4).seqLen(32).gradAccumulation(2).build();
        record Case(TrainSpec spec, PackedData data, String identity, String reason) {
        }
        for (Case c : List.of(new Case(spec(), otherData, "base-1", "another base model, spec or data"),
                new Case(otherLr, data(), "base-1", "another base model, spec or data"),
                new Case(spec(), data(), "base-2", "another base model, spec or data"),
                new Case(longer, data(), "base-1", "a run of 12 steps, this run has 20"))) {
            // the reference: the same run with no checkpoint at all
            LoraAdapter fresh = adapter(lora);
            new AdapterTrainer(c.spec(), CausalLms.withAdapter(tinyBase(), fresh), c.data()).run();
            LoraAdapter resumed = adapter(lora);
            List<String> notices = new ArrayList<>();
            TrainResult r = new AdapterTrainer(c.spec(), CausalLms.withAdapter(tinyBase(), resumed), c.data())
                    .checkpointTo(store(tmp)).identifiedBy(c.identity()).onProgress(TrainerFixtures.noticesInto(notices)).run();
            assertEquals(0, r.resumedFromStep(), c.toString());
            assertEquals(1, notices.size(), notices.toString());
            assertTrue(notices.get(0).startsWith("Discarding checkpoint of adapter cat at " + store(tmp).location()
                    + " (step 12): it "), notices.get(0));
            assertTrue(notices.get(0).contains(c.reason()) && notices.get(0).endsWith("; training from step 0"),
                    notices.get(0));
            for (int i = 0; i < fresh.parameters().size(); i++) {
                assertArrayEquals(fresh.parameters().get(i).value().toArray(),
                        resumed.parameters().get(i).value().toArray(), c + " " + fresh.parameters().get(i).name());
            }
            // leave the first run's checkpoint for the next case
            new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), adapter(lora)), data())
                    .checkpointTo(store(tmp)).identifiedBy("base-1").run();
        }
    }

    @Test
    void anInterruptedRunStopsBeforeItsNextStep(@TempDir Path tmp) throws IOException {
        LoraConfig lora = spec().lora();
        int[] steps = {0};
        java.util.concurrent.atomic.AtomicBoolean killed = new java.util.concurrent.atomic.AtomicBoolean();
        AdapterTrainer t = new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), adapter(lora)), data())
                .checkpointTo(store(tmp)).stopWhen(killed::get).onProgress(r -> {
                    steps[0] = r.step();
                    if (r.step() == 3) {
                        killed.set(true);
                    }
                });
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, t::run);
        assertEquals("Training of adapter cat stopped before step 4 of 12: the task was interrupted", e.getMessage());
        assertEquals(3, steps[0]);

        AdapterTrainer u = new AdapterTrainer(spec(), CausalLms.withAdapter(tinyBase(), adapter(lora)), data())
                .onProgress(r -> Thread.currentThread().interrupt());
        try {
            assertThrows(TrainingStoppedException.class, u::run);
        } finally {
            Thread.interrupted(); // clear the flag for the next test
        }
    }
}
