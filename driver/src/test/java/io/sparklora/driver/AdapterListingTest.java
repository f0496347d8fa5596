package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-listing view of adapters/ decides every directory as the per-adapter probes of AdapterStore do. */
class AdapterListingTest {
    @Test
    void theListingAgreesWithTheProbesOnEveryKindOfDirectory(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        store.commit("done", "a0", AdapterStoreTest.adapter(1), "base", AdapterStoreTest.json("{}"),
                AdapterStoreTest.F1);
        Path adapters = tmp.resolve("adapters");
        Files.createDirectories(adapters.resolve("cut"));
        Files.writeString(adapters.resolve("cut/training.json"), "{}"); // a commit cut short: no marker
        Files.createDirectories(adapters.resolve("empty"));
        Files.createDirectories(adapters.resolve("peft"));
        Files.writeString(adapters.resolve("peft/adapter_config.json"), "{}"); // a user's adapter
        Files.createDirectories(adapters.resolve("notes/sub"));
        Files.writeString(adapters.resolve("notes/sub/x.txt"), "x");
        Files.writeString(adapters.resolve("afile"), "x");
        Files.createDirectories(adapters.resolve("badmarker"));
        Files.writeString(adapters.resolve("badmarker/_committed.json"), "{not json");
        Files.createDirectories(adapters.resolve("oldcrc"));
        Files.copy(adapters.resolve("done/_committed.json"), adapters.resolve("oldcrc/_committed.json"));
        Files.writeString(adapters.resolve("oldcrc/._committed.json.crc"), "crc"); // an earlier version's side file

        AdapterListing listing = store.list();
        for (String name : List.of("done", "cut", "empty", "peft", "notes", "afile", "badmarker", "oldcrc", "none")) {
            assertEquals(store.state(name), listing.state(name), name);
        }
        assertEquals(AdapterStore.State.COMMITTED, listing.state("done"));
        assertEquals(AdapterStore.State.COMMITTED, listing.state("oldcrc"));
        assertEquals(AdapterStore.State.FOREIGN, listing.state("notes"));
        assertEquals(AdapterStore.State.ABSENT, listing.state("none"));
        assertEquals(AdapterStoreTest.F1, listing.marker("done").fingerprint());
        assertTrue(listing.hasMarker("badmarker"));
        assertFalse(listing.hasMarker("cut"));
    }

    @Test
    void aCommittedAdapterHasNoChecksumSideFiles(@TempDir Path tmp) throws IOException {
        AdapterStore store = new AdapterStore(tmp.toUri().toString(), new Configuration());
        store.commit("en", "a0", AdapterStoreTest.adapter(1), "base", AdapterStoreTest.json("{}"),
                AdapterStoreTest.F1);
        try (Stream<Path> files = Files.list(tmp.resolve("adapters/en"))) {
            assertEquals(List.of("_committed.json", "adapter_config.json", "adapter_model.safetensors",
                    "training.json"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(store.isCommitted("en", AdapterStoreTest.F1));
    }
}
