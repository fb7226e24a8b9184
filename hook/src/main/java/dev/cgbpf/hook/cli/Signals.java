package dev.cgbpf.hook.cli;

import java.util.List;

/**
 * SIGTERM and SIGINT for the daemon. The JVM's own handling of them (run the shutdown hooks,
 * all at once) would close the kernel backends of the requests in flight under them
 * (dev.cgbpf.kernel's shutdown teardown); handled here, they only make the daemon stop
 * accepting, and it exits once the requests in flight are done. Where the JVM does not let us
 * have the signals (-Xrs), its shutdown hooks still remove the socket.
 */
final class Signals {
    private Signals() {
    }

    static void onTermination(Runnable stop) {
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.run());
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM keeps the signal: the shutdown hook does the cleanup
            }
        }
    }
}
