package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.job.Fingerprint;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.storage.HadoopStorage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The {@code adapters/} directory of a train output on any Hadoop file system, and how one adapter is committed to it
 * so that retried, speculative and killed attempts never leave a partial adapter that a reader trusts.
 *
 * <p>An adapter is committed exactly when its directory holds {@value #MARKER}, written after every other file: the
 * adapter's fingerprint and the SHA-256 of its identity files ({@link #IDENTITY_FILES}: the PEFT config and weights,
 * which an attempt of the same fingerprint reproduces bit for bit). training.json, which records the attempt and its
 * timings, is not part of the identity. Readers and the manifest trust only marked adapters.
 *
 * <p>On stores with atomic rename (HDFS, local): the attempt writes {@code adapters/_tmp-<name>-<attempt>/}, marker
 * last, and renames it to {@code adapters/<name>} with a rename that fails when the target exists; an older adapter of
 * another fingerprint is first moved aside to {@code _replaced-<name>-<attempt>} and deleted after. On object stores
 * (see {@link HadoopStorage}) a rename is a copy, so the attempt removes the old marker first (the adapter is then
 * uncommitted, never half-new), writes {@value #WRITING} (so the directory is known to be ours), the files at their
 * final keys, removes {@value #WRITING} and writes the marker last. A late or duplicate attempt that finds the marker of its own fingerprint changes
 * nothing.
 */
public final class AdapterStore {
    public static final String TRAINING_JSON = "training.json";
    public static final String CONFIG_JSON = "adapter_config.json";
    /** The completion marker, written last. */
    public static final String MARKER = "_committed.json";
    /** Written first on object stores: the directory is spark-lora's while its files are being written. */
    public static final String WRITING = "_writing.json";
    public static final List<String> IDENTITY_FILES = List.of(CONFIG_JSON, PeftAdapters.WEIGHTS_FILE);
    public static final int MARKER_FORMAT_VERSION = 1;
    private static final String TMP_PREFIX = "_tmp-";
    private static final String REPLACED_PREFIX = "_replaced-";
    private static final Set<String> OURS = Set.of(CONFIG_JSON, PeftAdapters.WEIGHTS_FILE, TRAINING_JSON, MARKER,
            WRITING);
    /** Our files and the checksum side files ({@code .<name>.crc}) earlier versions wrote beside them. */
    static final Set<String> OURS_AND_CHECKSUMS = withChecksums(OURS);

    private final FileSystem fs;
    private final Path adapters; // <out>/adapters (or <out>/paths)

    public AdapterStore(String outUri, Configuration conf) throws IOException {
        this(outUri, "adapters", conf);
    }

    /** The adapters under {@code <out>/<dirName>} (a tree's flattened paths live under {@code paths}). */
    public AdapterStore(String outUri, String dirName, Configuration conf) throws IOException {
        Path out = new Path(outUri);
        this.fs = out.getFileSystem(conf);
        this.adapters = fs.makeQualified(new Path(out, dirName));
    }

    /** What an adapter's directory holds. */
    public enum State {
        /** No directory. */
        ABSENT,
        /** A completion marker: see {@link #marker}. */
        COMMITTED,
        /** spark-lora's files without a marker: a cut-short commit, or an adapter of a version before markers. */
        LEFTOVER,
        /** Files spark-lora did not write: never touched. */
        FOREIGN
    }

    /** The completion marker of a committed adapter. */
    public record Marker(Fingerprint fingerprint, Map<String, String> sha256) {
    }

    public Path dir(String name) {
        return new Path(adapters, name);
    }

    /**
     * The adapters' file system. On {@code file://} adapter files are written with java.nio ({@link #isLocal}), so no
     * {@code .crc} side file is written beside them (the marker's SHA-256 already guards the identity files).
     */
    public FileSystem fs() {
        return fs;
    }

    /** The state and markers of every adapter directory, from one recursive listing of {@code adapters/}. */
    public AdapterListing list() throws IOException {
        return AdapterListing.of(this);
    }

    Path adaptersDir() {
        return adapters;
    }

    public State state(String name) throws IOException {
        Path d = dir(name);
        FileStatus[] children;
        try {
            if (!fs.getFileStatus(d).isDirectory()) {
                return State.FOREIGN;
            }
            children = fs.listStatus(d);
        } catch (java.io.FileNotFoundException e) {
            return State.ABSENT;
        }
        boolean ours = false;
        for (FileStatus f : children) {
            String n = f.getPath().getName();
            if (!f.isFile() || !OURS_AND_CHECKSUMS.contains(n)) {
                return State.FOREIGN;
            }
            ours |= n.equals(TRAINING_JSON) || n.equals(WRITING) || n.equals(MARKER);
        }
        if (!ours) {
            return children.length == 0 ? State.LEFTOVER : State.FOREIGN; // a PEFT adapter a user put there
        }
        return marker(name) != null ? State.COMMITTED : State.LEFTOVER;
    }

    /** The adapter's marker, or null when it has none (or one that does not parse: then it is not committed). */
    public Marker marker(String name) throws IOException {
        byte[] bytes;
        try (InputStream in = fs.open(new Path(dir(name), MARKER))) {
            bytes = in.readAllBytes();
        } catch (java.io.FileNotFoundException e) {
            return null;
        }
        return parseMarker(bytes);
    }

    /** A marker's content, or null when it does not parse or has another format version. */
    static Marker parseMarker(byte[] bytes) {
        try {
            JsonNode n = TrainingRecord.JSON.readTree(bytes);
            if (n == null || n.path("format_version").asInt(-1) != MARKER_FORMAT_VERSION) {
                return null;
            }
            JsonNode f = n.path("fingerprint");
            Map<String, String> sha = new LinkedHashMap<>();
            for (String file : IDENTITY_FILES) {
                sha.put(file, n.path("sha256").path(file).asText());
            }
            return new Marker(new Fingerprint(f.path("base_model").asText(), f.path("settings").asText(),
                    f.path("data").asText()), sha);
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /** True when the adapter is committed with exactly this fingerprint. */
    public boolean isCommitted(String name, Fingerprint fingerprint) throws IOException {
        Marker m = marker(name);
        return m != null && m.fingerprint().equals(fingerprint);
    }

    /**
     * Commits the adapter; returns false when this fingerprint's adapter was already committed (then this attempt
     * changed nothing). An adapter of another fingerprint, or a leftover of ours, is replaced; files spark-lora did not
     * write are refused.
     */
    public boolean commit(String name, String attemptId, LoraAdapter adapter, String baseModel, byte[] trainingJson,
                          Fingerprint fingerprint) throws IOException {
        if (isCommitted(name, fingerprint)) {
            return false;
        }
        Map<String, byte[]> files = render(adapter, baseModel);
        byte[] marker = markerJson(name, fingerprint, files);
        Path target = dir(name);
        refuseForeign(name);
        if (HadoopStorage.isObjectStore(fs)) {
            fs.delete(new Path(target, MARKER), false);
            writeFile(new Path(target, WRITING), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            writeAll(target, files, trainingJson, marker);
            return true;
        }
        Path tmp = new Path(adapters, TMP_PREFIX + name + "-" + attemptId);
        Path aside = new Path(adapters, REPLACED_PREFIX + name + "-" + attemptId);
        fs.delete(tmp, true);
        try {
            writeAll(tmp, files, trainingJson, marker);
            if (isCommitted(name, fingerprint)) { // a sibling attempt won while this one wrote
                fs.delete(tmp, true);
                return false;
            }
            if (fs.exists(target)) {
                refuseForeign(name);
            }
            try {
                HadoopStorage.replaceDirectory(fs, tmp, target, aside);
            } catch (FileAlreadyExistsException e) { // another attempt renamed first; same fingerprint, same bytes
                return false;
            }
            return true;
        } finally {
            fs.delete(tmp, true);
        }
    }

    private void refuseForeign(String name) throws IOException {
        if (state(name) == State.FOREIGN) {
            throw new IOException("Cannot commit adapter " + name + " to " + dir(name) + ": it holds files spark-lora "
                    + "did not write");
        }
    }

    /** The PEFT files of the adapter, by name, in the order PEFT's writer produces them. */
    private static Map<String, byte[]> render(LoraAdapter adapter, String baseModel) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        PeftAdapters.write("adapter", (fileName, content) -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            content.writeTo(b);
            files.put(fileName, b.toByteArray());
        }, adapter, baseModel);
        return files;
    }

    /**
     * The weights, the PEFT config, training.json, then the marker: a reader trusts nothing before the last. On an
     * object store {@value #WRITING} goes just before the marker, once training.json marks the directory as ours: a
     * process killed at any point leaves a directory of ours, and a committed one never holds {@value #WRITING}.
     */
    private void writeAll(Path dir, Map<String, byte[]> files, byte[] trainingJson, byte[] marker) throws IOException {
        if (isLocal()) {
            java.nio.file.Files.createDirectories(local(dir));
        } else {
            fs.mkdirs(dir);
        }
        writeFile(new Path(dir, PeftAdapters.WEIGHTS_FILE), files.get(PeftAdapters.WEIGHTS_FILE));
        writeFile(new Path(dir, CONFIG_JSON), files.get(CONFIG_JSON));
        writeFile(new Path(dir, TRAINING_JSON), trainingJson);
        Path writing = new Path(dir, WRITING);
        if (fs.exists(writing)) {
            fs.delete(writing, false);
        }
        writeFile(new Path(dir, MARKER), marker);
    }

    /**
     * Deletes what killed attempts left in {@code adapters/}: their commit directories ({@code _tmp-*}) and adapters
     * they had moved aside to replace ({@code _replaced-*}, of another fingerprint: an attempt killed between its two
     * renames). Only once no attempt of this job runs any more: after the training stage, under the job's lease.
     */
    public void removeAbandoned() throws IOException {
        if (!fs.exists(adapters)) {
            return;
        }
        for (FileStatus f : fs.listStatus(adapters)) {
            String n = f.getPath().getName();
            if (f.isDirectory() && (n.startsWith(TMP_PREFIX) || n.startsWith(REPLACED_PREFIX))) {
                fs.delete(f.getPath(), true);
            }
        }
    }

    static byte[] markerJson(String name, Fingerprint f, Map<String, byte[]> files) throws IOException {
        ObjectNode o = TrainingRecord.JSON.createObjectNode();
        o.put("format_version", MARKER_FORMAT_VERSION);
        o.put("adapter", name);
        ObjectNode fp = o.putObject("fingerprint");
        fp.put("base_model", f.baseModel());
        fp.put("settings", f.settings());
        fp.put("data", f.data());
        ObjectNode sha = o.putObject("sha256");
        for (String file : IDENTITY_FILES) {
            byte[] b = files.get(file);
            if (b == null) {
                throw new IOException("Cannot commit adapter " + name + ": the PEFT writer produced no " + file);
            }
            sha.put(file, HadoopStorage.sha256(b));
        }
        return TrainingRecord.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
    }

    /**
     * On {@code file://} adapter files are written with java.nio: Hadoop's local file system sets the permission of
     * every file and directory it creates, and without Hadoop's native library it does so by starting a
     * {@code chmod} process, one per file — most of the cost of committing a tiny adapter.
     */
    private boolean isLocal() {
        return HadoopStorage.isLocal(fs);
    }

    private java.nio.file.Path local(Path p) {
        return HadoopStorage.local(fs, p);
    }

    private void writeFile(Path file, byte[] bytes) throws IOException {
        if (isLocal()) {
            java.nio.file.Files.write(local(file), bytes);
            return;
        }
        try (OutputStream out = fs.create(file, true)) {
            out.write(bytes);
        }
    }

    private static Set<String> withChecksums(Set<String> names) {
        Set<String> out = new java.util.HashSet<>(names);
        names.forEach(n -> out.add("." + n + ".crc"));
        return Set.copyOf(out);
    }

    /** Deletes a leftover of ours (never a committed or foreign directory); for a failed adapter's remains. */
    public void deleteLeftover(String name) throws IOException {
        if (state(name) == State.LEFTOVER) {
            fs.delete(dir(name), true);
        }
    }
}
