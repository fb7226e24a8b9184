package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfLink;

/** A cgroup link made or opened by a {@link KernelBackend}: owns its fd. */
final class KernelLink extends KernelObject implements BpfLink {
    KernelLink(KernelFds owner, Fd fd) {
        super(owner, fd);
    }

    @Override
    public int fd() {
        return handle().get();
    }

    @Override
    public String toString() {
        return "kernel link (" + handle() + ")";
    }
}
