package io.sparklora.cluster;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs a main class ({@code args[0]}, with the remaining arguments) and exits when the process that started it dies,
 * however it dies: the parent holds the write end of this process's stdin, so end-of-file on stdin means the parent
 * is gone (even after SIGKILL, when its shutdown hooks never ran). The exit runs this JVM's shutdown hooks, in which a
 * Spark Worker stops its executors.
 */
public final class DieWithParent {
    private DieWithParent() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("Cannot start: no main class given");
        }
        Thread watch = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Nothing is ever written; only end-of-file matters.
                }
            } catch (IOException closed) {
                // Same meaning as end-of-file.
            }
            System.exit(3);
        }, "die-with-parent");
        watch.setDaemon(true);
        watch.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
