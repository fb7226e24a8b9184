package dev.cgbpf.engine.backend;

/**
 * What a backend's {@link Backend#close()} does to what it made: chosen once, when the backend is
 * opened, so that no single forgotten call can leave a scenario's programs on the host or take a
 * container's programs away.
 */
public enum Lifetime {
    /**
     * close() undoes everything this backend did: it detaches the programs it loaded from the
     * cgroups under its root, removes the cgroups it made (all of them under a fresh scenario
     * root), removes the pins and pin directories it made, and closes its fds. A scenario or a
     * test leaves nothing behind.
     */
    SCOPED,
    /**
     * close() only closes this backend's fds (and ends its helper process): plain attachments,
     * pins, pin directories and cgroups stay, and with them every program, map and link they hold.
     * What is not held that way goes with its last fd, as in the kernel: an unpinned link detaches
     * its program, an unpinned, unattached program or map is freed. For the OCI hook, whose
     * programs must outlive the hook process.
     */
    PERSISTENT
}
