package dev.cgbpf.kernel;

import com.sun.jna.Native;
import dev.cgbpf.engine.backend.BpfException;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The bpf(2) system call itself: {@code syscall(SYS_bpf, cmd, attr, size)}. glibc has no bpf()
 * wrapper, so the number is per architecture.
 */
final class BpfSyscall {
    private BpfSyscall() {
    }

    /** __NR_bpf of the JVM's architecture, or empty where this module does not know it. */
    static OptionalLong number() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> OptionalLong.of(321);
            case "aarch64", "riscv64", "loongarch64" -> OptionalLong.of(280); // the asm-generic table
            default -> OptionalLong.empty();
        };
    }

    /**
     * Issues the call. Returns the kernel's non-negative result (an fd for commands that create
     * one, else 0); a failure becomes a {@link BpfException} named after errno.
     *
     * @param what context for the message, e.g. {@code "map 'flows'"}
     */
    static int call(BpfCmd cmd, BpfAttr attr, String what) throws BpfException {
        long ret = invoke(cmd, attr);
        if (ret < 0) {
            throw failure(cmd, (int) -ret, what, null);
        }
        return (int) ret;
    }

    static BpfException failure(BpfCmd cmd, int errno, String what, String log) {
        return BpfException.ofNumber(errno, cmd.name() + " (" + what + ") failed", log);
    }

    /** Issues the call: the kernel's result when non-negative, else minus errno. */
    static long invoke(BpfCmd cmd, BpfAttr attr) {
        long nr = number().orElseThrow(() -> new UnsupportedOperationException(
                "no bpf(2) syscall number for architecture " + System.getProperty("os.arch")));
        long ret = LibC.INSTANCE.syscall(nr, (long) cmd.value(), attr.memory(), (long) attr.size());
        if (ret < 0) {
            int errno = Native.getLastError();
            // -1 with errno 0 cannot come from a real syscall; never let it pass as success
            return -(errno != 0 ? errno : Integer.MAX_VALUE);
        }
        return ret;
    }
}
