package io.sparklora.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a parser over seeded mutants of valid seeds and checks the property every reader of ours promises: each input
 * either parses, or fails with one of the parser's documented exception types carrying a message that names the input
 * — never an undocumented exception (NPE, ClassCast, ArrayIndexOutOfBounds, NumberFormat), never an Error
 * (StackOverflow, OutOfMemory), never more than {@link #ALLOCATION_LIMIT} bytes allocated for one small input (a header
 * claiming a 10^15-byte tensor must not allocate it), never longer than {@link #CASE_TIMEOUT_MS} (a watchdog thread).
 *
 * <p>Knobs: {@code -Dfuzz.seed=S} (default {@value #DEFAULT_SEED}) and {@code -Dfuzz.cases=N} (cases per target,
 * overriding each test's default) — for example {@code -Dfuzz.cases=1000000} for a long run. A failing case is saved
 * under {@code target/fuzz-failures/} and reproduced by the same seed and case count.
 */
public final class Fuzz {
    public static final long DEFAULT_SEED = 20261202L;
    /** Bytes one case may allocate beyond {@code 64 ×} its input's size. */
    static final long ALLOCATION_LIMIT = 256L << 20;
    static final long CASE_TIMEOUT_MS = 10_000;

    /** The parser under test. */
    @FunctionalInterface
    public interface Target {
        void parse(byte[] input) throws Exception;
    }

    private Fuzz() {
    }

    /** The seed of target {@code name}: {@code fuzz.seed} mixed with the name, so targets draw different streams. */
    public static long seed(String name) {
        return Long.getLong("fuzz.seed", DEFAULT_SEED) * 31 + name.hashCode();
    }

    /** The test resources {@code dir/name} for each name, as seeds. */
    public static List<byte[]> resources(String dir, String... names) {
        List<byte[]> out = new ArrayList<>();
        for (String n : names) {
            try (InputStream in = Fuzz.class.getResourceAsStream(dir + "/" + n)) {
                if (in == null) {
                    throw new IllegalArgumentException("no test resource " + dir + "/" + n);
                }
                out.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** {@code fuzz.cases} when set, else {@code defaultCases}. */
    public static int cases(int defaultCases) {
        return Integer.getInteger("fuzz.cases", defaultCases);
    }

    /**
     * Checks every seed parses, then runs {@link #cases}({@code defaultCases}) mutants through {@code target}.
     * {@code inputName} must occur in every failure's message; {@code documented} lists the exception types allowed.
     * Returns how many mutants parsed; fails unless some parsed and some were refused (a fuzzer that never reaches
     * past the first check, or never breaks the format, tests nothing).
     */
    @SafeVarargs
    public static int run(String name, int defaultCases, List<byte[]> seeds, boolean jsonAware, String inputName,
                          Target target, Class<? extends Throwable>... documented) {
        for (byte[] seed : seeds) {
            try {
                target.parse(seed);
            } catch (Exception e) {
                throw new AssertionError("fuzz " + name + ": a valid seed does not parse", e);
            }
        }
        int cases = cases(defaultCases);
        long seed = seed(name);
        Mutator mutator = new Mutator(seed);
        AtomicInteger accepted = new AtomicInteger();
        AtomicReference<byte[]> current = new AtomicReference<>();
        AtomicInteger index = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong caseStart = new AtomicLong(System.nanoTime());
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long process0 = os.getProcessCpuTime(); // the worker, the collector and the JIT together
        long t0 = System.nanoTime();
        AtomicLong cpuNanos = new AtomicLong();
        Thread worker = new Thread(() -> {
            for (int i = 0; i < cases; i++) {
                byte[] input = mutator.mutate(seeds, jsonAware);
                current.set(input);
                index.set(i);
                caseStart.set(System.nanoTime());
                long allocated = mx.getCurrentThreadAllocatedBytes();
                Throwable thrown = null;
                try {
                    target.parse(input);
                    accepted.incrementAndGet();
                } catch (Throwable t) {
                    thrown = t;
                }
                long used = mx.getCurrentThreadAllocatedBytes() - allocated;
                String problem = thrown != null ? problem(thrown, inputName, documented)
                        : used > ALLOCATION_LIMIT + 64L * input.length ? "allocated " + used + " bytes" : null;
                if (problem != null) {
                    failure.set(new AssertionError(report(name, seed, i, input, problem), thrown));
                    return;
                }
            }
            cpuNanos.set(mx.getCurrentThreadCpuTime());
        }, "fuzz-" + name);
        worker.setDaemon(true);
        worker.start();
        try {
            while (worker.isAlive()) {
                worker.join(200);
                long ms = (System.nanoTime() - caseStart.get()) / 1_000_000;
                if (worker.isAlive() && ms > CASE_TIMEOUT_MS) {
                    worker.interrupt();
                    fail(report(name, seed, index.get(), current.get(), "no result after " + ms + " ms (a hang)"));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        if (failure.get() != null) {
            throw (AssertionError) failure.get();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("fuzz %s: %d mutants (%d parsed, %d refused) in %d ms (CPU: %d ms the parser's thread, %d ms"
                        + " the process), seed %d%n", name, cases, accepted.get(), cases - accepted.get(), ms,
                cpuNanos.get() / 1_000_000, (os.getProcessCpuTime() - process0) / 1_000_000, seed);
        if (cases >= 1000) {
            assertTrue(accepted.get() > 0 && accepted.get() < cases, "fuzz " + name + ": " + accepted.get() + " of " + cases
                    + " mutants parsed; the seeds or mutations reach only one outcome");
        }
        return accepted.get();
    }

    /** Why {@code t} breaks the property, or null when it is a documented failure naming the input. */
    private static String problem(Throwable t, String inputName, Class<? extends Throwable>[] documented) {
        boolean isDocumented = false;
        for (Class<? extends Throwable> c : documented) {
            isDocumented |= c.isInstance(t);
        }
        if (!isDocumented) {
            return "undocumented " + t.getClass().getName();
        }
        String m = t.getMessage();
        if (m == null || m.isBlank() || !m.contains(inputName)) {
            return "message does not name the input " + inputName + ": " + m;
        }
        return null;
    }

    private static String report(String name, long seed, int index, byte[] input, String problem) {
        String saved = "";
        if (input != null) {
            try {
                Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
                Path f = dir.resolve(name + "-seed" + seed + "-case" + index + ".bin");
                Files.write(f, input);
                saved = "; input saved to " + f.toAbsolutePath();
            } catch (IOException e) {
                saved = "; input not saved: " + e.getMessage();
            }
        }
        return "fuzz " + name + " case " + index + " (seed " + seed + "): " + problem + saved;
    }
}
