package dev.cgbpf.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * The one JVM shutdown hook that closes kernel backends still open when the JVM exits, normally or
 * on SIGINT/SIGTERM (Ctrl-C): their scenario cgroups, probe workers and attachments must not
 * outlive the run. (SIGKILL cannot be caught; {@link CgroupSession#sweepStale} removes what such a
 * run left behind, the next time a scenario root is made.)
 */
final class ShutdownTeardown {
    /**
     * A list, not a hash set: a backend registers from inside its own synchronized methods, and
     * the identity hash of an object whose monitor is held inflates that monitor, which the JVM
     * frees only at its next deflation pass (a long-running JVM that opens a backend per request,
     * the daemon, would grow by one ObjectMonitor per backend until then). Few are open at once.
     */
    private static final List<KernelBackend> OPEN = new ArrayList<>();
    private static boolean hooked;

    private ShutdownTeardown() {
    }

    static synchronized void register(KernelBackend b) {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(ShutdownTeardown::closeAll, "cgbpf-kernel-teardown"));
            hooked = true;
        }
        if (!OPEN.contains(b)) {
            OPEN.add(b);
        }
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
