package dev.cgbpf.kernel;

import com.sun.jna.Native;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;

/**
 * errno of the libc calls this module makes (file system, cgroup and socket calls), named as the
 * kernel's headers name it. The shared {@link Errno} table names the values bpf(2) returns;
 * socket calls return more (EPROTONOSUPPORT, ENETUNREACH, ...), which glibc names for us.
 */
final class SysErrno {
    private SysErrno() {
    }

    /** errno of the last libc call on this thread. */
    static int last() {
        return Native.getLastError();
    }

    /** The symbolic name of an errno number, e.g. {@code EADDRINUSE}; {@code errno N} when unknown. */
    static String name(int number) {
        return Errno.of(number).map(Enum::name).orElseGet(() -> {
            String n = LibC.INSTANCE.strerrorname_np(number);
            return n != null ? n : "errno " + number;
        });
    }

    static BpfException exception(int number, String message) {
        return new BpfException(name(number), message, null);
    }

    /** The exception for the last libc call's errno. */
    static BpfException lastAsException(String message) {
        return exception(last(), message);
    }
}
