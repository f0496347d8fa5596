package io.sparklora.driver;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import io.sparklora.storage.HadoopStorage;
import java.util.ArrayList;
import java.util.Iterator;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * What {@code <out>/adapters/} holds, from one listing of the directory and one recursive listing of its files (one
 * paginated LIST on an object store) instead of five or six probes per adapter: the driver plans thousands of adapters
 * from it, and reads a marker only where the listing shows one. Per directory it keeps a bit per file name spark-lora
 * writes and whether anything else is there, so it stays small for 100,000 adapters. The listing is a snapshot; on an
 * object store an empty "directory" nested in an adapter's prefix is not seen (a recursive listing returns files).
 */
public final class AdapterListing {
    private static final List<String> NAMES = List.copyOf(AdapterStore.OURS_AND_CHECKSUMS);
    private static final int MARKER_BIT = 1 << NAMES.indexOf(AdapterStore.MARKER);
    private static final int SIGN_BITS = MARKER_BIT | 1 << NAMES.indexOf(AdapterStore.TRAINING_JSON)
            | 1 << NAMES.indexOf(AdapterStore.WRITING); // files that only spark-lora writes
    private static final int FOREIGN_BIT = 1 << 30;

    private final AdapterStore store;
    private final Map<String, Integer> dirs; // adapter directory name → bits of the files it holds
    private final Set<String> files; // plain files directly under adapters/ (a name taken by a file is foreign)
    private String lastName; // the marker read last, as state() and then marker() of one adapter ask for it twice
    private AdapterStore.Marker lastMarker;

    private AdapterListing(AdapterStore store, Map<String, Integer> dirs, Set<String> files) {
        this.store = store;
        this.dirs = dirs;
        this.files = files;
    }

    static AdapterListing of(AdapterStore store) throws IOException {
        FileSystem fs = store.fs();
        Map<String, Integer> dirs = new HashMap<>();
        Set<String> files = new HashSet<>();
        FileStatus[] top;
        try {
            top = fs.listStatus(store.adaptersDir());
        } catch (FileNotFoundException e) {
            return new AdapterListing(store, dirs, files);
        }
        for (FileStatus s : top) {
            if (s.isDirectory()) {
                dirs.put(s.getPath().getName(), 0);
            } else {
                files.add(s.getPath().getName());
            }
        }
        String root = store.adaptersDir().toUri().getPath() + "/";
        RemoteIterator<? extends FileStatus> all = filesBelow(fs, store, top);
        while (all.hasNext()) {
            String path = all.next().getPath().toUri().getPath();
            if (!path.startsWith(root)) {
                continue;
            }
            String[] parts = path.substring(root.length()).split("/");
            if (parts.length < 2 || !dirs.containsKey(parts[0])) {
                continue;
            }
            int bit = parts.length == 2 ? NAMES.indexOf(parts[1]) : -1;
            dirs.merge(parts[0], bit >= 0 ? 1 << bit : FOREIGN_BIT, (a, b) -> a | b);
        }
        return new AdapterListing(store, dirs, files);
    }

    /**
     * Every file below {@code adapters/} and every entry of its directories. On an object store one recursive
     * listing (a paginated LIST of the prefix); elsewhere one listing per adapter directory, because a recursive
     * listing returns {@code LocatedFileStatus}es, whose permissions the local file system reads by starting a
     * process per file (40 s for 800 files here), and on HDFS it lists each directory anyway.
     */
    private static RemoteIterator<? extends FileStatus> filesBelow(FileSystem fs, AdapterStore store,
                                                                   FileStatus[] top) throws IOException {
        if (HadoopStorage.isObjectStore(fs.getUri().getScheme())) {
            return fs.listFiles(store.adaptersDir(), true);
        }
        List<FileStatus> out = new ArrayList<>();
        for (FileStatus d : top) {
            if (d.isDirectory()) {
                for (FileStatus f : fs.listStatus(d.getPath())) {
                    // a nested directory is listed as if it held a file, which makes the adapter directory foreign
                    out.add(f.isDirectory() ? new FileStatus(0, false, 0, 0, 0, new Path(f.getPath(), "_dir"))
                            : f);
                }
            }
        }
        Iterator<FileStatus> it = out.iterator();
        return new RemoteIterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public FileStatus next() {
                return it.next();
            }
        };
    }

    /** As {@link AdapterStore#state}, from the listing; reads the marker only where one is listed. */
    public AdapterStore.State state(String name) throws IOException {
        if (files.contains(name)) {
            return AdapterStore.State.FOREIGN;
        }
        Integer bits = dirs.get(name);
        if (bits == null) {
            return AdapterStore.State.ABSENT;
        }
        if ((bits & FOREIGN_BIT) != 0) {
            return AdapterStore.State.FOREIGN;
        }
        if ((bits & SIGN_BITS) == 0) {
            return bits == 0 ? AdapterStore.State.LEFTOVER : AdapterStore.State.FOREIGN; // a user's PEFT adapter
        }
        return marker(name) != null ? AdapterStore.State.COMMITTED : AdapterStore.State.LEFTOVER;
    }

    /** True when the listing shows the adapter's completion marker. */
    public boolean hasMarker(String name) {
        Integer bits = dirs.get(name);
        return bits != null && (bits & MARKER_BIT) != 0;
    }

    /** The adapter's marker: read when the listing shows one, else null. */
    public AdapterStore.Marker marker(String name) throws IOException {
        if (!hasMarker(name)) {
            return null;
        }
        if (!name.equals(lastName)) {
            lastMarker = store.marker(name);
            lastName = name;
        }
        return lastMarker;
    }
}
