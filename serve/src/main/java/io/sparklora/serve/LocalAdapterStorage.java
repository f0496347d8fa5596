package io.sparklora.serve;

import io.sparklora.lora.LoraAdapter;
import io.sparklora.model.ModelConfig;
import io.sparklora.peft.PeftAdapters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A {@code train} output (or a directory of adapter directories) on the local file system. */
public final class LocalAdapterStorage implements AdapterStorage {
    private final Path root;

    public LocalAdapterStorage(Path root) {
        this.root = root;
    }

    @Override
    public String name() {
        return root.toString();
    }

    @Override
    public byte[] readIfExists(String path) throws IOException {
        Path p = root.resolve(path);
        return Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
    }

    @Override
    public String version(String path) throws IOException {
        Path p = root.resolve(path);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p,
                java.nio.file.attribute.BasicFileAttributes.class);
        return a.size() + ":" + a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS) + ":"
                + a.fileKey(); // train replaces router.json by a rename: a new inode even within one mtime tick
    }

    @Override
    public List<String> adapterDirs(String path) throws IOException {
        Path dir = root.resolve(path);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path c : children.sorted().toList()) {
                if (Files.isRegularFile(c.resolve(AdapterCatalog.CONFIG_JSON))) {
                    out.add(c.getFileName().toString());
                }
            }
        }
        return out;
    }

    @Override
    public LoraAdapter readAdapter(String path, ModelConfig base) throws IOException {
        return PeftAdapters.read(root.resolve(path), base);
    }
}
