package dev.cgbpf.kernel;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ownership of one kernel file descriptor returned by bpf(2). Closing is idempotent, so an owner
 * can close it deterministically and a later sweep (the backend's close) does no harm.
 */
public final class Fd implements AutoCloseable {
    private final int value;
    private final AtomicBoolean closed = new AtomicBoolean();

    public Fd(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("fd " + value);
        }
        this.value = value;
    }

    /** The descriptor number; fails once closed, so a stale number is never handed to the kernel. */
    public int get() {
        if (closed.get()) {
            throw new IllegalStateException("fd " + value + " is closed");
        }
        return value;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            LibC.INSTANCE.close(value);
        }
    }

    @Override
    public String toString() {
        return "fd " + value + (closed.get() ? " (closed)" : "");
    }
}
