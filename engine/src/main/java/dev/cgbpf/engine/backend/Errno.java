package dev.cgbpf.engine.backend;

import java.util.Optional;

/** The errno values bpf(2) and the cgroup file system return, with Linux x86-64 numbers. */
public enum Errno {
    EPERM(1), ENOENT(2), ESRCH(3), EINTR(4), EIO(5), ENXIO(6), E2BIG(7), EBADF(9), EAGAIN(11),
    ENOMEM(12), EACCES(13), EFAULT(14), EBUSY(16), EEXIST(17), EXDEV(18), ENODEV(19), ENOTDIR(20),
    EISDIR(21), EINVAL(22), ENFILE(23), EMFILE(24), ENOSPC(28), ERANGE(34), ENAMETOOLONG(36), ENOSYS(38),
    ENOTEMPTY(39), ELOOP(40), ENOLINK(67), EPROTO(71), EPROTONOSUPPORT(93), EOPNOTSUPP(95), EAFNOSUPPORT(97),
    EADDRINUSE(98), EADDRNOTAVAIL(99), ENETUNREACH(101), ENOTCONN(107), ETIMEDOUT(110),
    EHOSTUNREACH(113), ECONNREFUSED(111), ENOTSUPP(524);

    private final int number;

    Errno(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    public static Optional<Errno> of(int number) {
        for (Errno e : values()) {
            if (e.number == number) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
