package io.sparklora.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.fuzz.Fuzz;
import io.sparklora.fuzz.Mutator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The few fuzz cases that reach the native tokenizers library: the seeds and the first mutants the Java check
 * ({@link TokenizerJson}) accepts, run in a child JVM ({@link NativeTokenizerProbe}) so that a native crash fails this
 * test, naming the input, instead of killing the test JVM.
 */
class NativeTokenizerFuzzTest {
    private static final int NATIVE_CASES = 100;

    /** Under target/, not a temporary directory: the inputs stay for a look when the child crashed. */
    private final Path tmp = Path.of("target", "fuzz-native-tokenizer").toAbsolutePath();

    @Test
    void mutantsTheJavaCheckAcceptsLoadOrFailCleanlyInTheNativeLibrary() throws Exception {
        if (Files.exists(tmp)) {
            try (java.util.stream.Stream<Path> old = Files.walk(tmp)) {
                for (Path f : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
        List<byte[]> seeds = TokenizerSeeds.all();
        Mutator mutator = new Mutator(Fuzz.seed("tokenizer-native"));
        int written = 0;
        for (byte[] s : seeds) {
            write(written++, s);
        }
        int target = seeds.size() + Fuzz.cases(NATIVE_CASES);
        for (int tries = 0; written < target && tries < 100 * target; tries++) {
            byte[] m = mutator.mutate(seeds, true);
            try {
                TokenizerJson.parse(new String(m, StandardCharsets.UTF_8), TokenizerSeeds.FILE);
            } catch (IOException refusedInJava) {
                continue;
            }
            write(written++, m);
        }
        Path log = tmp.resolve("probe.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                NativeTokenizerProbe.class.getName(), tmp.resolve("cases").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(log);
        String last = lines.stream().filter(l -> l.startsWith("start ")).reduce((a, b) -> b).orElse("none");
        String output = String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        assertTrue(done, "native probe hung at " + last + " (inputs under " + tmp + ")\n" + output);
        assertEquals(0, p.exitValue(), "native probe failed (exit " + p.exitValue() + ", last " + last + ", inputs "
                + "under " + tmp + "):\n" + output);
        long ok = lines.stream().filter(l -> l.startsWith("ok ")).count();
        assertTrue(ok >= seeds.size(), "the seeds load natively:\n" + output);
        System.out.printf("fuzz tokenizer-native: %d inputs in a child JVM, %d loaded, %d refused%n", written, ok,
                written - ok);
    }

    private void write(int index, byte[] content) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cases").resolve(String.format("case-%04d", index)));
        Files.write(dir.resolve("tokenizer.json"), content);
    }
}
