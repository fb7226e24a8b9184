package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;

/**
 * The errno numbers the socket emulation hands to programs (bpf_bind returns -errno) and turns
 * into {@link BpfException}s, including the few the backend's {@link Errno} table does not list.
 */
final class Errnos {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENODEV = 19;
    static final int EACCES = 13;
    static final int EFAULT = 14;
    static final int EEXIST = 17;
    static final int ENOSPC = 28;
    static final int ENOMSG = 42;
    static final int EOPNOTSUPP = 95;
    static final int EINVAL = 22;
    static final int EAFNOSUPPORT = 97;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;
    static final int ENETUNREACH = 101;
    static final int ENOTCONN = 107;
    static final int ETIMEDOUT = 110;
    static final int ECONNREFUSED = 111;
    static final int EPROTONOSUPPORT = 93;
    static final int ENOTSUPP = 524;

    private Errnos() {
    }

    /** The Linux x86-64 name of an errno number ({@link Errno} has them all). */
    static String name(int errno) {
        return Errno.of(errno).map(Enum::name).orElse("errno " + errno);
    }

    /** The exception of a failed call returning {@code -errno}. */
    static BpfException fail(int negErrno, String message) {
        return new BpfException(name(-negErrno), message, null);
    }
}
