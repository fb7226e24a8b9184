package dev.cgbpf.kernel;

/** What a {@link KernelBackend} hands out and closes at its end: each owns one kernel fd. */
sealed interface KernelObject permits KernelProg, KernelMap {
    /** Closes the fd; idempotent, never throws. */
    void close();
}
