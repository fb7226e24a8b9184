package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.cgroup.CgroupLink;

/**
 * An fd of an {@link EngineBackend} on a cgroup link: holds one reference to the link while
 * open; closing the last fd of an unpinned link detaches its program, as in the kernel.
 */
public final class LinkFd implements BpfLink {
    final FdTable table;
    final EngineLink link;
    final int fd;

    /** Takes over one reference the caller holds on {@code link}, and an fd of {@code table}. */
    LinkFd(FdTable table, EngineLink link) {
        this.table = table;
        this.link = link;
        this.fd = table.alloc(this);
    }

    boolean isOpenIn(FdTable t) {
        return t == table && table.get(fd) == this;
    }

    @Override
    public int fd() {
        return fd;
    }

    /** The link in the cgroup tree: its program, attach type, and cgroup (null once defunct). */
    public CgroupLink cgroupLink() {
        return link.cgroupLink;
    }

    /** Closes the fd: when no other fd or pin holds the link, it is released (detached if attached). Idempotent. */
    @Override
    public void close() {
        if (table.free(fd, this)) {
            link.put();
        }
    }

    @Override
    public String toString() {
        return "engine " + link.cgroupLink + " (fd " + fd + ")";
    }
}
