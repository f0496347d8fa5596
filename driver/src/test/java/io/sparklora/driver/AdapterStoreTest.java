package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.job.Fingerprint;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.LlamaConfig;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commit of one adapter by competing attempts (retries, speculative copies), replacement, and commits cut short. */
class AdapterStoreTest {
    static final LlamaConfig TINY = new LlamaConfig(256, 32, 64, 1, 4, 2, 8, 64, 1e-5, 10000, false, false, false,
            0.2);
    static final Fingerprint F1 = new Fingerprint(Fingerprint.sha256("base"), Fingerprint.sha256("s"),
            Fingerprint.sha256("d1"));
    static final Fingerprint F2 = new Fingerprint(Fingerprint.sha256("base"), Fingerprint.sha256("s"),
            Fingerprint.sha256("d2"));

    static LoraAdapter adapter(long seed) {
        return LoraAdapter.initialize(LoraConfig.defaults().withRank(2).withSeed(seed), TINY);
    }

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theFirstCommitWinsAndALateAttemptOfTheSameFingerprintChangesNothing(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        assertEquals(AdapterStore.State.ABSENT, store.state("en"));
        assertTrue(store.commit("en", "a0", adapter(1), "base", json("{\"first\":1}"), F1));
        assertTrue(store.isCommitted("en", F1));
        assertFalse(store.commit("en", "a1", adapter(2), "base", json("{\"second\":1}"), F1));
        Path dir = tmp.resolve("adapters/en");
        assertEquals("{\"first\":1}", Files.readString(dir.resolve("training.json")));
        assertArrayEquals(adapter(1).parameters().get(0).value().toArray(),
                PeftAdapters.read(dir, TINY).parameters().get(0).value().toArray());
        assertEquals(io.sparklora.util.Hashing.sha256(dir.resolve("adapter_model.safetensors")),
                store.marker("en").sha256().get("adapter_model.safetensors"));
        try (Stream<Path> files = Files.list(tmp.resolve("adapters"))) {
            assertEquals(1, files.count(), "no _tmp- directory left");
        }
    }

    @Test
    void anotherFingerprintReplacesTheAdapterWhole(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        store.commit("en", "a0", adapter(1), "base", json("{}"), F1);
        assertTrue(store.commit("en", "b0", adapter(2), "base", json("{}"), F2));
        assertTrue(store.isCommitted("en", F2));
        assertFalse(store.isCommitted("en", F1));
        assertArrayEquals(adapter(2).parameters().get(0).value().toArray(),
                PeftAdapters.read(tmp.resolve("adapters/en"), TINY).parameters().get(0).value().toArray());
        try (Stream<Path> files = Files.list(tmp.resolve("adapters"))) {
            assertEquals(List.of("en"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * A commit cut short after each of its files (what a killed attempt on an object store leaves): never committed
     * to a reader, a leftover of ours, and the next commit repairs it.
     */
    @Test
    void aCommitCutShortAtAnyPointIsNeverTrustedAndTheNextCommitRepairsIt(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        Path whole = tmp.resolve("whole");
        AdapterStore reference = new AdapterStore(whole.toUri().toString(), new Configuration());
        reference.commit("en", "r", adapter(1), "base", json("{}"), F1);
        List<String> order = List.of(AdapterStore.WRITING, "adapter_model.safetensors", "adapter_config.json",
                "training.json");
        for (int cut = 1; cut <= order.size(); cut++) {
            Path dir = Files.createDirectories(tmp.resolve("adapters/en"));
            for (String f : order.subList(0, cut)) {
                Path src = whole.resolve("adapters/en").resolve(f);
                Files.write(dir.resolve(f), Files.exists(src) ? Files.readAllBytes(src) : json("{}"));
            }
            assertEquals(AdapterStore.State.LEFTOVER, store.state("en"), "cut after " + order.get(cut - 1));
            assertNull(store.marker("en"));
            assertFalse(store.isCommitted("en", F1));
            assertTrue(store.commit("en", "a" + cut, adapter(1), "base", json("{}"), F1));
            assertTrue(store.isCommitted("en", F1));
            TrainCommandSupport.deleteTree(tmp.resolve("adapters"));
        }
        // a marker cut short (invalid JSON) does not commit either
        store.commit("en", "a", adapter(1), "base", json("{}"), F1);
        Path marker = tmp.resolve("adapters/en").resolve(AdapterStore.MARKER);
        byte[] b = Files.readAllBytes(marker);
        Files.write(marker, java.util.Arrays.copyOf(b, b.length / 2));
        assertEquals(AdapterStore.State.LEFTOVER, store.state("en"));
        assertTrue(store.commit("en", "b", adapter(1), "base", json("{}"), F1));
    }

    @Test
    void filesSparkLoraDidNotWriteAreNeverReplaced(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        Path dir = Files.createDirectories(tmp.resolve("adapters/en"));
        Files.writeString(dir.resolve("notes.txt"), "mine");
        assertEquals(AdapterStore.State.FOREIGN, store.state("en"));
        IOException e = assertThrows(IOException.class,
                () -> store.commit("en", "a0", adapter(1), "base", json("{}"), F1));
        assertEquals("Cannot commit adapter en to " + store.dir("en") + ": it holds files spark-lora did not write",
                e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        // a PEFT adapter a user copied in (no training.json, no marker) is not ours either
        Path peft = tmp.resolve("adapters/fr");
        PeftAdapters.write(peft, adapter(3), "base");
        assertEquals(AdapterStore.State.FOREIGN, store.state("fr"));
    }
}
