package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * A failed libc call inside a probe, with its raw errno number: the probe worker sends the number
 * back to the runner, which names it ({@link SysErrno#name}).
 */
final class ErrnoException extends Exception {
    private final int errno;

    ErrnoException(int errno, String what) {
        super(what + ": " + SysErrno.name(errno));
        this.errno = errno;
    }

    static ErrnoException last(String what) {
        return new ErrnoException(SysErrno.last(), what);
    }

    int errno() {
        return errno;
    }

    BpfException toBpfException() {
        return SysErrno.exception(errno, getMessage());
    }
}
