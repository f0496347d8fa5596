package io.sparklora.cluster;

import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A real file system (HDFS, S3A: {@value #DELEGATE}, the instance in Hadoop's cache) that "dies" before the n-th change made through any instance
 * since {@link #arm} (a change is a create, delete, mkdirs or rename, {@link FileContext} renames included through
 * {@link Afs}): that call and every later one, reads included, throw, as if the process had been killed with SIGKILL
 * at that point: nothing after it reaches the store and no {@code finally} block cleans up. Installed for one scheme
 * by {@link #installed}; one test at a time arms it (the count is static, shared by every instance).
 */
public final class DyingFileSystem extends FilterFileSystem {
    private Configuration dyingConf;
    static final String DELEGATE = "test.dying.delegate";
    private static final AtomicInteger CHANGES = new AtomicInteger();
    private static final java.util.List<String> MADE = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static volatile int dieBefore = Integer.MAX_VALUE;
    private static volatile boolean dead;

    /**
     * A configuration where {@code scheme} is served by a DyingFileSystem over {@code delegate}, for
     * {@code FileSystem} and {@code FileContext} alike, never cached.
     */
    public static Configuration installed(Configuration conf, String scheme, Class<? extends FileSystem> delegate) {
        Configuration c = new Configuration(conf);
        c.setClass(DELEGATE, delegate, FileSystem.class);
        c.setClass("fs." + scheme + ".impl", DyingFileSystem.class, FileSystem.class);
        c.setBoolean("fs." + scheme + ".impl.disable.cache", true);
        c.set("fs.AbstractFileSystem." + scheme + ".impl", Afs.class.getName());
        return c;
    }

    /** From now on, die before change {@code change} (0 = the first). */
    public static void arm(int change) {
        CHANGES.set(0);
        MADE.clear();
        dead = false;
        dieBefore = change;
    }

    /** Alive again, never dying; returns the number of changes made since {@link #arm}. */
    public static java.util.List<String> disarm() {
        dieBefore = Integer.MAX_VALUE;
        dead = false;
        return java.util.List.copyOf(MADE);
    }

    /** True once it has died since {@link #arm}. */
    public static boolean dead() {
        return dead;
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        // The real file system from Hadoop's cache (a new S3A client per instance would cost seconds): this class is
        // installed uncached, the real one is not.
        Configuration real = new Configuration(conf);
        real.setClass("fs." + name.getScheme() + ".impl", conf.getClass(DELEGATE, null, FileSystem.class),
                FileSystem.class);
        real.unset("fs." + name.getScheme() + ".impl.disable.cache");
        this.fs = FileSystem.get(name, real);
        this.dyingConf = conf;
        super.initialize(name, conf);
    }

    /**
     * The configuration this file system was made with (FilterFileSystem would answer the real one's), as any
     * FileSystem does: a {@code FileContext} built from it (HadoopStorage's renames) renames through this class too.
     */
    @Override
    public Configuration getConf() {
        return dyingConf != null ? dyingConf : super.getConf();
    }

    @Override
    public void close() {
        // The shared real file system stays open for the test's other users.
    }

    @Override
    public String getScheme() {
        return fs.getScheme();
    }

    private static void change(String what, Path p) throws IOException {
        alive();
        int n = CHANGES.getAndIncrement();
        if (n == dieBefore) {
            dead = true;
            throw new IOException("Killed before change " + n + ": " + what + " " + p);
        }
        MADE.add(what + " " + p);
    }

    private static void alive() throws IOException {
        if (dead) {
            throw new IOException("The process is dead");
        }
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress) throws IOException {
        change("create", f);
        return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public boolean delete(Path f, boolean recursive) throws IOException {
        change("delete", f);
        return super.delete(f, recursive);
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) throws IOException {
        change("mkdirs", f);
        return super.mkdirs(f, permission);
    }

    @Override
    public boolean mkdirs(Path f) throws IOException {
        change("mkdirs", f);
        return super.mkdirs(f);
    }

    @Override
    @SuppressWarnings("deprecation")
    protected void rename(Path src, Path dst, org.apache.hadoop.fs.Options.Rename... options) throws IOException {
        change("rename", src);
        super.rename(src, dst, options); // what FileContext's rename reaches through DelegateToFileSystem
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        change("rename", src);
        return super.rename(src, dst);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        alive();
        return super.open(f, bufferSize);
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        alive();
        return super.getFileStatus(f);
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        alive();
        return super.listStatus(f);
    }

    /** The same for {@code FileContext} (which renames through an AbstractFileSystem, not a FileSystem). */
    public static final class Afs extends DelegateToFileSystem {
        public Afs(URI uri, Configuration conf) throws IOException, java.net.URISyntaxException {
            super(uri, new DyingFileSystem(), conf, uri.getScheme(), false);
        }
    }
}
