package io.sparklora.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.SafeTensorsWriter;
import io.sparklora.storage.HadoopByteSource;
import io.sparklora.storage.HadoopStorage;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The checkpoints of one training run, in one directory of any Hadoop {@link FileSystem}.
 *
 * <p>Layout: {@code <dir>/step-00000040/} holds {@code tensors.safetensors} (every trainable tensor under
 * {@code param/<name>}, AdamW's moments under {@code adam_m/<name>} and {@code adam_v/<name>}) and {@code state.json}
 * (format version, step, generator states, data position, loss history, and the tensors file's length and SHA-256:
 * one {@link CheckpointState}, the only spelling of that file).
 *
 * <p>Atomicity: a checkpoint is written into {@code <dir>/_tmp-<owner>-<uuid>/}, state.json last, then the directory is
 * renamed to its {@code step-N} name (atomic on HDFS and local file systems), and only then are older checkpoints
 * deleted. {@code owner} names the task attempt: the loader deletes only its own attempt's {@code _tmp-} leftovers,
 * never another live attempt's (a speculative copy writing next to it); the driver removes the whole directory once
 * the job is done. The loader accepts a {@code step-N} directory only when its
 * state.json parses, has our format version, and the tensors file has the recorded length and hash; otherwise it
 * deletes that directory and falls back to the previous one. So on stores whose rename is a copy (S3A), a crash
 * mid-rename still never loads half a checkpoint.
 *
 * <p>Concurrent attempts of the same task (speculative execution) compute identical states; if a {@code step-N}
 * directory already exists when an attempt commits, the attempt keeps it and drops its own copy.
 */
public final class TrainerCheckpoint {
    public static final int FORMAT_VERSION = CheckpointState.FORMAT_VERSION;
    static final String TENSORS = "tensors.safetensors";
    static final String STATE = CheckpointState.FILE;
    private static final String TMP_PREFIX = "_tmp-";
    private static final String STEP_PREFIX = "step-";

    private final FileSystem fs;
    private final Path dir;
    private final String owner; // the attempt whose temporary directories this instance may delete
    private final List<String> notices = new ArrayList<>(); // what loadLatest passed over and kept, to be told

    public TrainerCheckpoint(FileSystem fs, Path dir, String owner) {
        if (owner == null || !owner.matches("[A-Za-z0-9.]+")) {
            throw new IllegalArgumentException("Invalid checkpoint owner " + owner + ": must be made of [A-Za-z0-9.]");
        }
        this.fs = fs;
        this.dir = dir;
        this.owner = owner;
    }

    /**
     * The checkpoint directory at {@code uri} ({@code file:///…}, {@code hdfs://…}, {@code s3a://…}), written by a
     * fresh owner of its own (it deletes no other writer's temporary directories).
     */
    public static TrainerCheckpoint at(URI uri, Configuration conf) throws IOException {
        return at(uri, conf, UUID.randomUUID().toString().replace("-", ""));
    }

    /** The checkpoint directory at {@code uri}, written by the task attempt {@code owner}. */
    public static TrainerCheckpoint at(URI uri, Configuration conf, String owner) throws IOException {
        Path p = new Path(uri);
        return new TrainerCheckpoint(p.getFileSystem(conf), p, owner);
    }

    /** The directory, for messages. */
    public String location() {
        return fs.makeQualified(dir).toString();
    }

    /** Writes {@code s} as the checkpoint of step {@code s.step()}, atomically, and deletes older checkpoints. */
    public void save(TrainerState s) throws IOException {
        saveKeepingOlder(s);
        deleteOlderThan(s.step());
    }

    /**
     * Writes {@code s} as the checkpoint of step {@code s.step()}, atomically, and keeps the older ones: a fused
     * group writes every member's step first and deletes their older steps only then ({@link #deleteOlderThan}), so
     * that a crash between two members' writes leaves every member a checkpoint of the same step.
     */
    public void saveKeepingOlder(TrainerState s) throws IOException {
        fs.mkdirs(dir);
        Path tmp = new Path(dir, ownTmpPrefix() + UUID.randomUUID());
        Path target = new Path(dir, stepName(s.step()));
        try {
            fs.mkdirs(tmp);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            s.parameters().forEach((k, v) -> tensors.put("param/" + k, v));
            s.adamM().forEach((k, v) -> tensors.put("adam_m/" + k, v));
            s.adamV().forEach((k, v) -> tensors.put("adam_v/" + k, v));
            MessageDigest sha = sha256();
            long bytes;
            try (FSDataOutputStream raw = fs.create(new Path(tmp, TENSORS), false);
                 DigestOutputStream out = new DigestOutputStream(raw, sha)) {
                SafeTensorsWriter.write(out, Map.of("format", "spark-lora-trainer-checkpoint"), tensors);
                out.flush();
                bytes = raw.getPos();
            }
            byte[] state = CheckpointState.of(s, bytes, HexFormat.of().formatHex(sha.digest())).toJson();
            try (OutputStream out = fs.create(new Path(tmp, STATE), false)) {
                out.write(state);
            }
            if (HadoopStorage.isObjectStore(fs)) {
                // A rename is a copy here: a copy cut short is never loaded (tryLoad checks the size and sha256)
                if (fs.exists(target)) {
                    fs.delete(tmp, true); // another attempt committed this step's (identical) state first
                } else if (!fs.rename(tmp, target)) {
                    throw new IOException("rename of " + tmp + " to " + target + " failed");
                }
            } else {
                try {
                    // Hadoop's rename(a, b) onto an existing directory b would move a inside b: this one refuses
                    HadoopStorage.renameDirectory(fs, tmp, target);
                } catch (FileAlreadyExistsException e) {
                    fs.delete(tmp, true); // another attempt committed this step's (identical) state first
                }
            }
        } catch (IOException e) {
            fs.delete(tmp, true);
            throw new IOException("Cannot write checkpoint of adapter " + s.adapterName() + " step " + s.step()
                    + " to " + location() + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the checkpoints of steps before {@code step}. */
    public void deleteOlderThan(int step) throws IOException {
        for (FileStatus st : list()) {
            String name = st.getPath().getName();
            if (name.startsWith(STEP_PREFIX) && stepOf(name) >= 0 && stepOf(name) < step) {
                fs.delete(st.getPath(), true);
            }
        }
    }

    /** Deletes the checkpoints of steps after {@code step}; true when there was one. */
    public boolean deleteNewerThan(int step) throws IOException {
        boolean any = false;
        for (FileStatus st : list()) {
            String name = st.getPath().getName();
            if (name.startsWith(STEP_PREFIX) && stepOf(name) > step) {
                any |= fs.delete(st.getPath(), true);
            }
        }
        return any;
    }

    /**
     * The newest complete checkpoint, or empty when there is none. Deletes this owner's temporary directories and the
     * incomplete checkpoints it finds (see the class comment).
     */
    public Optional<TrainerState> loadLatest() throws IOException {
        return loadLatestUpTo(Integer.MAX_VALUE);
    }

    /**
     * The newest complete checkpoint of a step at most {@code maxStep}, or empty when there is none; deletes as
     * {@link #loadLatest} does (checkpoints after {@code maxStep} are not looked at).
     */
    public Optional<TrainerState> loadLatestUpTo(int maxStep) throws IOException {
        List<Path> steps = new ArrayList<>();
        for (FileStatus st : list()) {
            String name = st.getPath().getName();
            if (name.startsWith(ownTmpPrefix())) {
                fs.delete(st.getPath(), true);
            } else if (name.startsWith(STEP_PREFIX) && stepOf(name) >= 0 && stepOf(name) <= maxStep) {
                steps.add(st.getPath());
            }
        }
        steps.sort((a, b) -> Long.compare(stepOf(b.getName()), stepOf(a.getName())));
        for (Path p : steps) {
            Optional<TrainerState> s = tryLoad(p);
            if (s.isPresent()) {
                return s;
            }
            if (!writtenByALaterVersion(p)) {
                fs.delete(p, true);
            }
        }
        return Optional.empty();
    }

    /** What {@link #loadLatest} passed over without deleting it (a later version's checkpoint), one line each. */
    public List<String> notices() {
        return List.copyOf(notices);
    }

    /** Deletes every complete checkpoint (one this run cannot resume) and this owner's temporary directories. */
    public void discard() throws IOException {
        for (FileStatus st : list()) {
            String name = st.getPath().getName();
            if (name.startsWith(STEP_PREFIX) || name.startsWith(ownTmpPrefix())) {
                fs.delete(st.getPath(), true);
            }
        }
    }

    private String ownTmpPrefix() {
        return TMP_PREFIX + owner + "-";
    }

    private List<FileStatus> list() throws IOException {
        return fs.exists(dir) ? List.of(fs.listStatus(dir)) : List.of();
    }

    private static String stepName(int step) {
        return String.format("%s%08d", STEP_PREFIX, step);
    }

    /** The step of a {@code step-N} name, or -1 when the name is not one. */
    private static long stepOf(String name) {
        try {
            return Long.parseLong(name.substring(STEP_PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether {@code stepDir}'s state.json names a format_version newer than this spark-lora reads. */
    private boolean writtenByALaterVersion(Path stepDir) {
        try (InputStream in = fs.open(new Path(stepDir, STATE))) {
            return CheckpointState.tree(in.readAllBytes()).filter(CheckpointState::newer).isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    /** The state in {@code stepDir}, or empty when it is incomplete or not ours (see the class comment). */
    private Optional<TrainerState> tryLoad(Path stepDir) throws IOException {
        Path statePath = new Path(stepDir, STATE);
        Path tensorsPath = new Path(stepDir, TENSORS);
        if (!fs.exists(statePath) || !fs.exists(tensorsPath)) {
            return Optional.empty();
        }
        Optional<JsonNode> tree;
        try (InputStream in = fs.open(statePath)) {
            tree = CheckpointState.tree(in.readAllBytes());
        } catch (IOException e) {
            return Optional.empty(); // a checksummed file system (file://, HDFS) caught damage
        }
        if (tree.isEmpty()) {
            return Optional.empty(); // truncated JSON, or a repeated key
        }
        JsonNode root = tree.get();
        Optional<String> later = CheckpointState.laterVersion(root, statePath.toString());
        if (later.isPresent()) { // a later spark-lora's: kept, not resumed
            String notice = "Passed over a checkpoint: " + later.get() + "; it is kept, and not resumed";
            if (!notices.contains(notice)) { // a fused group may look at the same directory twice
                notices.add(notice);
            }
            return Optional.empty();
        }
        if (!CheckpointState.understood(root)) {
            return Optional.empty();
        }
        // The tensors file first: a checkpoint whose tensors do not match is incomplete (passed over), and only a
        // complete one's damaged field is an error
        Optional<CheckpointState.TensorsFile> recorded = CheckpointState.tensorsFile(root);
        if (recorded.isEmpty() || fs.getFileStatus(tensorsPath).getLen() != recorded.get().bytes()) {
            return Optional.empty();
        }
        try {
            if (!recorded.get().sha256().equals(sha256Of(tensorsPath))) {
                return Optional.empty();
            }
        } catch (ChecksumException e) {
            return Optional.empty(); // a checksummed file system (file://, HDFS) caught the damage first
        }
        String where = "Cannot load checkpoint " + fs.makeQualified(stepDir);
        return Optional.of(tensors(where, CheckpointState.read(root, where), tensorsPath));
    }

    private String sha256Of(Path file) throws IOException {
        return HadoopStorage.sha256(fs, file);
    }

    private static MessageDigest sha256() {
        return HadoopStorage.newSha256();
    }

    /** {@code state} with its tensors, each one {@code state.json} lists read from {@code tensorsPath}. */
    private TrainerState tensors(String where, CheckpointState state, Path tensorsPath) throws IOException {
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, Tensor> v = new LinkedHashMap<>();
        try (SafeTensorsReader r = SafeTensorsReader.open(HadoopByteSource.open(fs, tensorsPath))) {
            for (String name : state.parameters()) {
                params.put(name, read(r, where, "param/" + name));
                m.put(name, read(r, where, "adam_m/" + name));
                v.put(name, read(r, where, "adam_v/" + name));
            }
            if (r.names().size() != 3 * params.size()) {
                throw new IOException(where + ": " + TENSORS + " holds " + r.names().size() + " tensors, "
                        + STATE + " lists " + params.size() + " parameters (3 tensors each)");
            }
        }
        return state.trainerState(params, m, v);
    }

    private static Tensor read(SafeTensorsReader r, String where, String key) throws IOException {
        if (r.info(key) == null) {
            throw new IOException(where + ": tensor " + key + " is missing from " + TENSORS);
        }
        return r.read(key);
    }
}
