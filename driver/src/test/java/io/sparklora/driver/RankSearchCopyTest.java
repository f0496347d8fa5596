package io.sparklora.driver;

import static io.sparklora.driver.AdapterStoreTest.F1;
import static io.sparklora.driver.AdapterStoreTest.F2;
import static io.sparklora.driver.AdapterStoreTest.adapter;
import static io.sparklora.driver.AdapterStoreTest.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishing a rank search's chosen adapter into {@code adapters/<name>}: it replaces an adapter of ours, and refuses,
 * naming the path and deleting nothing, a target spark-lora did not write.
 */
class RankSearchCopyTest {
    private static final Configuration CONF = new Configuration();

    /** Every file below {@code dir} with its bytes, by relative path. */
    private static Map<String, byte[]> tree(Path dir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted().toList()) {
                files.put(dir.relativize(p).toString(), Files.isRegularFile(p) ? Files.readAllBytes(p) : new byte[0]);
            }
        }
        return files;
    }

    private static void assertSameTree(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }

    private static AdapterStore round(Path out) throws IOException {
        AdapterStore round = new AdapterStore(out.resolve("_rank_search/r4").toUri().toString(), CONF);
        round.commit("en", "a0", adapter(1), "base", json("{\"rank\":4}"), F1);
        return round;
    }

    private static void refused(Path out, AdapterStore target, AdapterStore round) throws IOException {
        Map<String, byte[]> before = tree(out.resolve("adapters"));
        IOException e = assertThrows(IOException.class, () -> RankSearchCopy.publish(target, round, "en", CONF));
        assertEquals("Cannot publish the rank search's adapter en to " + target.dir("en") + ": it holds files "
                + "spark-lora did not write", e.getMessage());
        assertSameTree(before, tree(out.resolve("adapters"))); // nothing deleted, nothing left beside it
    }

    @Test
    void aTargetOfAUsersFilesIsRefusedAndKeptByteIdentical(@TempDir Path out) throws IOException {
        AdapterStore round = round(out);
        AdapterStore target = new AdapterStore(out.toUri().toString(), CONF);
        Path dir = Files.createDirectories(out.resolve("adapters/en/notes"));
        byte[] mine = new byte[10_000];
        new Random(3).nextBytes(mine);
        Files.write(dir.resolve("mine.bin"), mine);
        Files.writeString(out.resolve("adapters/en/README"), "keep me");
        refused(out, target, round);
        assertArrayEquals(mine, Files.readAllBytes(dir.resolve("mine.bin")));
    }

    @Test
    void aPeftAdapterAUserCopiedInIsRefusedAndKept(@TempDir Path out) throws IOException {
        AdapterStore round = round(out);
        AdapterStore target = new AdapterStore(out.toUri().toString(), CONF);
        PeftAdapters.write(out.resolve("adapters/en"), adapter(9), "base"); // PEFT files, no training.json, no marker
        refused(out, target, round);
    }

    @Test
    void aFileAtTheTargetIsRefusedAndKept(@TempDir Path out) throws IOException {
        AdapterStore round = round(out);
        AdapterStore target = new AdapterStore(out.toUri().toString(), CONF);
        Files.createDirectories(out.resolve("adapters"));
        Files.writeString(out.resolve("adapters/en"), "a file, not a directory");
        refused(out, target, round);
        assertEquals("a file, not a directory", Files.readString(out.resolve("adapters/en")));
    }

    @Test
    void anAdapterOfOursIsReplacedWholeAndARepublishChangesNothing(@TempDir Path out) throws IOException {
        AdapterStore round = round(out);
        AdapterStore target = new AdapterStore(out.toUri().toString(), CONF);
        target.commit("en", "b0", adapter(2), "base", json("{\"rank\":8}"), F2);
        assertTrue(RankSearchCopy.publish(target, round, "en", CONF));
        assertSameTree(tree(out.resolve("_rank_search/r4/adapters/en")), tree(out.resolve("adapters/en")));
        try (Stream<Path> s = Files.list(out.resolve("adapters"))) {
            assertEquals(List.of("en"), s.map(p -> p.getFileName().toString()).toList());
        }
        assertFalse(RankSearchCopy.publish(target, round, "en", CONF));
        assertTrue(target.isCommitted("en", F1));
    }
}
