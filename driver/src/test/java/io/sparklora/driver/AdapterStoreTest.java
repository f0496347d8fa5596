package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.model.LlamaConfig;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commit of one adapter by competing attempts (retries, speculative copies) on a file system with atomic rename. */
class AdapterStoreTest {
    static final LlamaConfig TINY = new LlamaConfig(256, 32, 64, 1, 4, 2, 8, 64, 1e-5, 10000, false, false, false,
            0.2);

    static LoraAdapter adapter(long seed) {
        return LoraAdapter.initialize(LoraConfig.defaults().withRank(2).withSeed(seed), TINY);
    }

    @Test
    void theFirstCommitWinsAndTheLoserLeavesNothing(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        assertFalse(store.isComplete("en"));
        assertTrue(store.commit("en", "a0", adapter(1), "base", "{\"first\":1}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(store.isComplete("en"));
        assertFalse(store.commit("en", "a1", adapter(2), "base", "{\"second\":1}".getBytes(StandardCharsets.UTF_8)));
        Path dir = tmp.resolve("adapters/en");
        assertEquals("{\"first\":1}", Files.readString(dir.resolve("training.json")));
        assertArrayEquals(adapter(1).parameters().get(0).value().toArray(),
                PeftAdapters.read(dir, TINY).parameters().get(0).value().toArray());
        try (Stream<Path> files = Files.list(tmp.resolve("adapters"))) {
            assertEquals(1, files.count(), "no _tmp- directory left");
        }
    }

    @Test
    void anIncompleteLeftoverIsReplaced(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        Path dir = Files.createDirectories(tmp.resolve("adapters/en"));
        Files.writeString(dir.resolve("adapter_model.safetensors"), "truncated");
        assertFalse(store.isComplete("en"));
        assertTrue(store.commit("en", "a0", adapter(1), "base", "{}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(store.isComplete("en"));
        assertEquals(adapter(1).parameters().size(), PeftAdapters.read(dir, TINY).parameters().size());
    }
}
