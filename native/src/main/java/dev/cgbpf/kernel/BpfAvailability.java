package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.ProgType;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether this process can use bpf(2) the way cgbpf needs it, and if not, one clear reason.
 *
 * <p>The probe asks the kernel rather than guessing from uid or capabilities: it loads the
 * smallest cgroup_device program ({@code r0 = 1; exit}), the program type cgbpf exists for, which
 * needs CAP_BPF plus CAP_NET_ADMIN, or CAP_SYS_ADMIN. Only when that fails does it look at
 * capabilities and sysctls to explain why.
 *
 * @param usable true when bpf(2) loads a cgroup program here
 * @param reason null when usable, else one line for a human
 */
public record BpfAvailability(boolean usable, String reason) {

    // capability bit numbers of include/uapi/linux/capability.h
    private static final int CAP_NET_ADMIN = 12;
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_BPF = 39;

    private static volatile BpfAvailability cached;

    /** The probe's answer, computed once per JVM (the answer does not change while it runs). */
    public static BpfAvailability probe() {
        BpfAvailability a = cached;
        if (a == null) {
            a = probeNow();
            cached = a;
        }
        return a;
    }

    static BpfAvailability probeNow() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
            return no("bpf(2) exists only on Linux; this is " + os);
        }
        if (BpfSyscall.number().isEmpty()) {
            return no("no bpf(2) syscall number known for architecture " + System.getProperty("os.arch"));
        }
        try {
            LibC.INSTANCE.getClass();
        } catch (LinkageError e) {
            Throwable why = e.getCause() != null ? e.getCause() : e;
            return no("JNA cannot call into libc: " + why);
        }
        byte[] trivial = TrivialProgram.returning(1);
        try {
            ProgLoad.Loaded loaded = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), trivial, "GPL",
                    "cgbpf_probe", 0, 0);
            loaded.fd().close();
        } catch (BpfException e) {
            if (e.errno().equals(Errno.EINVAL.name()) && loads(ProgType.SOCKET_FILTER, trivial)) {
                return no(NO_CGROUP_BPF + " (cgroup_device programs are an unknown type)");
            }
            return no(explain(e.errno()));
        }
        return cgroupV2();
    }

    static final String NO_CGROUP_BPF = "the kernel is built without CONFIG_CGROUP_BPF";

    /** The second half: a unified hierarchy to attach to, and a kernel that attaches programs to cgroups. */
    private static BpfAvailability cgroupV2() {
        var mount = CgroupV2Mount.discover();
        if (mount.isEmpty()) {
            return no("no cgroup v2 mount: cgroup-bpf needs the unified hierarchy (cgroup2), and this host mounts"
                    + " only cgroup v1 (mount -t cgroup2 none /sys/fs/cgroup/unified, or boot with"
                    + " systemd.unified_cgroup_hierarchy=1)");
        }
        try (Fd root = CgroupDir.open(mount.get().mountPoint())) {
            ProgQuery.progQuery(root, dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE.value(), 0, 0, false);
        } catch (BpfException e) {
            if (e.errno().equals(Errno.EINVAL.name())) {
                return no(NO_CGROUP_BPF + " (BPF_PROG_QUERY on " + mount.get().mountPoint() + " says EINVAL)");
            }
            return no("cannot query the cgroup v2 root " + mount.get().mountPoint() + ": " + e.errno());
        }
        return new BpfAvailability(true, null);
    }

    private static boolean loads(ProgType type, byte[] insns) {
        try {
            ProgLoad.progLoad(type.value(), insns, "GPL", "cgbpf_probe", 0, 0).fd().close();
            return true;
        } catch (BpfException e) {
            return false;
        }
    }

    private static BpfAvailability no(String reason) {
        return new BpfAvailability(false, reason);
    }

    private static String explain(String errno) {
        if (errno.equals(Errno.ENOSYS.name())) {
            return "the kernel has no bpf(2) (ENOSYS: built without CONFIG_BPF_SYSCALL, or blocked by seccomp)";
        }
        if (errno.equals(Errno.EPERM.name())) {
            BigInteger caps = statusField("CapEff:").map(v -> new BigInteger(v, 16)).orElse(null);
            String euid = statusField("Uid:").map(v -> v.split("\\s+")[1]).orElse("?");
            String sysctl = readTrimmed("/proc/sys/kernel/unprivileged_bpf_disabled");
            String sysctlNote = sysctl == null ? "" : "; kernel.unprivileged_bpf_disabled=" + sysctl;
            if (caps == null) {
                return "bpf(2) refused with EPERM (capabilities unreadable)" + sysctlNote;
            }
            boolean sysAdmin = caps.testBit(CAP_SYS_ADMIN);
            boolean bpf = sysAdmin || caps.testBit(CAP_BPF);
            boolean netAdmin = sysAdmin || caps.testBit(CAP_NET_ADMIN);
            if (!bpf || !netAdmin) {
                String who = euid.equals("0")
                        ? "running as uid 0 but without the capabilities (dropped, e.g. by a container runtime)"
                        : "not root (uid " + euid + ")";
                return "bpf(2) refused with EPERM: " + who + "; cgbpf needs CAP_SYS_ADMIN, or CAP_BPF and"
                        + " CAP_NET_ADMIN" + sysctlNote;
            }
            return "bpf(2) refused with EPERM although the process has CAP_BPF and CAP_NET_ADMIN:"
                    + " blocked by seccomp or an LSM (e.g. a container's default profile)";
        }
        return "bpf(2) cannot load a trivial cgroup_device program: " + errno;
    }

    /** The value of one "Name:" line of /proc/self/status. */
    private static Optional<String> statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Optional.of(line.substring(name.length()).strip());
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static String readTrimmed(String path) {
        try {
            return ProcFile.read(Path.of(path)).strip();
        } catch (IOException e) {
            return null;
        }
    }
}
