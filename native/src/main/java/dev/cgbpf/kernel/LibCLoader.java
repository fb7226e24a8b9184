package dev.cgbpf.kernel;

import com.sun.jna.Native;

/**
 * Loads libc through JNA without the child process JNA starts by default.
 *
 * <p>Why: to build its library search path, JNA runs {@code /sbin/ldconfig -p} on its first use
 * on Linux, unless {@code jna.platform.library.path} is set. That is a fork and exec (through the
 * JDK's jspawnhelper) in every JVM that touches bpf(2), ~20-40 ms of a hook stage run without the
 * daemon (docs/perf.md, "the JVM hook"). cgbpf needs only libc, which lives in the multiarch
 * directories of the distribution, so those are the search path when nobody set one.
 */
final class LibCLoader {
    static final String PLATFORM_PATH = "jna.platform.library.path";

    private LibCLoader() {
    }

    static LibC load() {
        if (System.getProperty(PLATFORM_PATH) == null) {
            System.setProperty(PLATFORM_PATH, platformPath(System.getProperty("os.arch", "")));
        }
        return Native.load("c", LibC.class);
    }

    /** The library directories of a Debian-style multiarch system (and the plain ones) for {@code osArch}. */
    static String platformPath(String osArch) {
        String triple = switch (osArch) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64" -> "aarch64-linux-gnu";
            case "riscv64" -> "riscv64-linux-gnu";
            default -> null;
        };
        String plain = "/usr/lib64:/lib64:/usr/lib:/lib";
        return triple == null ? plain : "/usr/lib/" + triple + ":/lib/" + triple + ":" + plain;
    }
}
