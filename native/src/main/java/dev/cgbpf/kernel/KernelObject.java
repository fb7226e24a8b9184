package dev.cgbpf.kernel;

/**
 * What a {@link KernelBackend} hands out and closes at its end (programs, maps, links): each owns one kernel fd, and
 * closing it (the user's close or the backend's sweep, whichever comes first) closes the fd and
 * drops it from the backend's list of open objects.
 */
abstract sealed class KernelObject permits KernelProg, KernelMap, KernelLink {
    private final KernelBackend owner;
    private final Fd fd;

    KernelObject(KernelBackend owner, Fd fd) {
        this.owner = owner;
        this.fd = fd;
    }

    /** The fd this object owns. */
    final Fd handle() {
        return fd;
    }

    /** Whether this object came from {@code backend} and its fd is still open. */
    final boolean isOpenIn(KernelBackend backend) {
        return owner == backend && fd.isOpen();
    }

    /** Closes the fd; idempotent, never throws. */
    public final void close() {
        fd.close();
        owner.forget(this);
    }
}
