package dev.cgbpf.kernel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one JVM shutdown hook that closes kernel backends still open when the JVM exits, normally or
 * on SIGINT/SIGTERM (Ctrl-C): their scenario cgroups, probe workers and attachments must not
 * outlive the run. (SIGKILL cannot be caught; {@link CgroupSession#sweepStale} removes what such a
 * run left behind, the next time a scenario root is made.)
 */
final class ShutdownTeardown {
    private static final Set<KernelBackend> OPEN = new LinkedHashSet<>();
    private static boolean hooked;

    private ShutdownTeardown() {
    }

    static synchronized void register(KernelBackend b) {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(ShutdownTeardown::closeAll, "cgbpf-kernel-teardown"));
            hooked = true;
        }
        OPEN.add(b);
    }

    static synchronized void unregister(KernelBackend b) {
        OPEN.remove(b);
    }

    private static void closeAll() {
        List<KernelBackend> all;
        synchronized (ShutdownTeardown.class) {
            all = new ArrayList<>(OPEN);
        }
        for (KernelBackend b : all) {
            b.close();
        }
    }
}
