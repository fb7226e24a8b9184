package dev.cgbpf.engine;

import dev.cgbpf.engine.cgroup.Cgroup;

/**
 * An fd of a cgroup's directory in an engine backend's fd table, as open(2) of the directory gives
 * one: what a cgroup array's update takes as its value. It holds no bpf object.
 */
final class CgroupDirFd implements AutoCloseable {
    final FdTable table;
    final Cgroup cgroup;
    final int fd;

    CgroupDirFd(FdTable table, Cgroup cgroup) {
        this.table = table;
        this.cgroup = cgroup;
        this.fd = table.alloc(this);
    }

    @Override
    public void close() {
        table.free(fd, this);
    }

    @Override
    public String toString() {
        return "engine cgroup directory (fd " + fd + ")";
    }
}
