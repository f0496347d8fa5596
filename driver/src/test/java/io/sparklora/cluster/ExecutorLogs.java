package io.sparklora.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each executor of a standalone run did, read from its log ({@code <worker work dir>/app-.../<id>/stderr}):
 * the base models the executor-side cache built ({@code ExecutorModels}: "Built base model KEY on this executor"),
 * the broadcast variables it fetched (Spark's TorrentBroadcast: "Started reading broadcast variable N"), and the
 * adapters whose last progress line it logged.
 */
record ExecutorLogs(Path log, List<String> builds, List<String> broadcastFetches, List<String> adaptersFinished,
                    String excerpt) {
    private static final Pattern BUILT = Pattern.compile("Built base model (\\S+) on this executor");
    private static final Pattern FETCHED = Pattern.compile("Started reading broadcast variable (\\d+) ");

    /** One entry per executor log of {@code logs}; {@code steps} is the adapters' last step. */
    static List<ExecutorLogs> of(List<Path> logs, int steps) throws IOException {
        Pattern finished = Pattern.compile("adapter (\\S+): step " + steps + "/" + steps + " ");
        List<ExecutorLogs> all = new ArrayList<>();
        for (Path log : logs) {
            String text = Files.readString(log, StandardCharsets.ISO_8859_1);
            String excerpt = String.join("\n", text.lines().filter(l -> l.contains("base model")
                    || l.contains("broadcast variable") || l.contains("adapter ")).toList());
            all.add(new ExecutorLogs(log, matches(BUILT, text), matches(FETCHED, text), matches(finished, text),
                    excerpt));
        }
        return all;
    }

    /** Every log's excerpt, for failure messages. */
    static String describe(List<ExecutorLogs> logs) {
        StringBuilder sb = new StringBuilder();
        for (ExecutorLogs l : logs) {
            sb.append("==> ").append(l.log()).append('\n').append(l.excerpt()).append('\n');
        }
        return sb.toString();
    }

    private static List<String> matches(Pattern p, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }
}
