package dev.cgbpf.kernel;

/**
 * What a {@link KernelBackend} hands out and closes at its end (programs, maps, links): each owns
 * one kernel fd, and closing it (the user's close or the backend's sweep, whichever comes first)
 * closes the fd and drops it from the backend's {@link KernelFds}.
 */
abstract sealed class KernelObject permits KernelProg, KernelMap, KernelLink {
    private final KernelFds owner;
    private final Fd fd;

    KernelObject(KernelFds owner, Fd fd) {
        this.owner = owner;
        this.fd = fd;
    }

    /** The fd this object owns. */
    final Fd handle() {
        return fd;
    }

    /** Whether this object is in {@code fds} and its fd is still open. */
    final boolean isOpenIn(KernelFds fds) {
        return owner == fds && fd.isOpen();
    }

    /** Closes the fd; idempotent, never throws. */
    public final void close() {
        fd.close();
        owner.forget(this);
    }
}
