package io.sparklora.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Waits for a line in logs that are still being written (executor stderr files, a child process's output): the
 * fault tests act (kill a process) at the moment a log says the run reached a given point.
 */
final class LogWatch {
    private LogWatch() {
    }

    /**
     * The first match of {@code line} in any of the files {@code logs} lists (re-listed on every poll), waiting up to
     * {@code timeout}; fails early when {@code run} ends first, since then the line never comes.
     */
    static Matcher await(Callable<List<Path>> logs, Pattern line, Duration timeout, Future<?> run) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Path log : logs.call()) {
                Matcher m = line.matcher(read(log));
                if (m.find()) {
                    return m;
                }
            }
            if (run.isDone()) {
                run.get(); // rethrows the run's failure, if any
                throw new AssertionError("the run ended before a log line matched " + line);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no log line matched " + line + " within " + timeout.toSeconds() + " s");
    }

    /** Every match's first group, in order, over the given logs. */
    static List<String> all(List<Path> logs, Pattern line) throws IOException {
        List<String> found = new ArrayList<>();
        for (Path log : logs) {
            Matcher m = line.matcher(read(log));
            while (m.find()) {
                found.add(m.group(1));
            }
        }
        return found;
    }

    static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
    }
}
