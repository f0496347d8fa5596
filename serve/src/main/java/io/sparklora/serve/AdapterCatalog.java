package io.sparklora.serve;

import io.sparklora.output.ManifestFile;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The adapters a {@code train} output offers, by name: the {@code manifest.json} entries whose status is
 * {@code trained} or {@code existing} (failed and skipped ones are not servable), or, without a manifest, every
 * directory under {@code adapters/} (or under the root) that holds an {@code adapter_config.json}. A tree output
 * ({@code train --tree}) offers the manifest's {@code paths} entries instead: each leaf's whole path, loadable
 * alone, under the leaf's name. Re-read with {@link #refresh()}: adapters trained into the output after the server
 * started appear without a restart.
 */
public final class AdapterCatalog {
    public static final String CONFIG_JSON = "adapter_config.json";
    static final String MANIFEST = "manifest.json";
    /** The newest manifest.json format this reader understands. */
    static final int MANIFEST_FORMAT_VERSION = ManifestFile.FORMAT_VERSION;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern PATH = Pattern.compile("([A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+");
    private static final Set<String> SERVABLE = Set.of("trained", "existing");

    private final AdapterStorage storage;
    private volatile Map<String, String> paths = Map.of(); // name -> directory relative to the root

    public AdapterCatalog(AdapterStorage storage) throws IOException {
        this.storage = storage;
        refresh();
    }

    public AdapterStorage storage() {
        return storage;
    }

    /** Name → directory of every servable adapter, as of the last refresh, in the output's order. */
    public Map<String, String> adapters() {
        return paths;
    }

    /** Re-reads the manifest (or the directories). */
    public synchronized void refresh() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        byte[] manifest = storage.readIfExists(MANIFEST);
        if (manifest != null) {
            String where = storage.name() + "/" + MANIFEST;
            // refused unless JSON with a format_version this spark-lora reads (missing or newer: not ours to guess at)
            ManifestFile m = ManifestFile.read(manifest, where);
            // a tree output offers its leaves' flattened paths under the leaf names, not the nodes' own deltas
            for (ManifestFile.Entry a : m.offered()) {
                String name = a.name() == null ? "" : a.name();
                String path = a.path() == null ? "adapters/" + name : a.path();
                if (a.status() != null && !SERVABLE.contains(a.status())) {
                    continue;
                }
                if (!NAME.matcher(name).matches() || !PATH.matcher(path).matches() || path.contains("..")) {
                    throw new IOException("Cannot read " + where + ": adapter entry name " + name + ", path " + path
                            + " is not a plain name and a relative path inside the output");
                }
                out.put(name, path);
            }
        } else {
            String under = storage.adapterDirs("adapters").isEmpty() ? "" : "adapters/";
            for (String dir : storage.adapterDirs(under.isEmpty() ? "." : "adapters")) {
                if (NAME.matcher(dir).matches()) {
                    out.put(dir, under + dir);
                }
            }
        }
        paths = Collections.unmodifiableMap(out);
    }
}
