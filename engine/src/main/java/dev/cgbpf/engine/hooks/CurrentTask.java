package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Machine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The helpers about {@code current} (kernel: bpf_get_current_pid_tgid, bpf_get_current_uid_gid,
 * bpf_get_current_comm, bpf_get_current_task(_btf), bpf_get_ns_current_pid_tgid,
 * bpf_send_signal(_thread)), which every cgroup program type may call. A cgroup hook runs in the task that made the system call (for
 * ingress on loopback, the sending task's softirq; for a test run, the caller); in the engine that
 * task is the probing thread, the Java thread calling into the engine, so the answers come from
 * {@code /proc/thread-self}: its process and thread ids as this process's pid namespace numbers
 * them, its real uid and gid, its comm. The task pointer is opaque: an address in the kernel's
 * direct map, distinct per thread, that a program can compare and pass on but not read (the
 * verifier refuses loads through it, as they need the kernel's BTF).
 */
final class CurrentTask {
    static final int GET_CURRENT_PID_TGID = 14;
    static final int GET_CURRENT_UID_GID = 15;
    static final int GET_CURRENT_COMM = 16;
    static final int GET_CURRENT_TASK = 35;
    static final int GET_NS_CURRENT_PID_TGID = 120;
    static final int GET_CURRENT_TASK_BTF = 158;
    static final int SEND_SIGNAL = 109;
    static final int SEND_SIGNAL_THREAD = 117;
    /** _NSIG on x86-64: valid_signal(sig) is sig <= 64. */
    private static final long NSIG = 64;
    /** TASK_COMM_LEN. */
    static final int COMM_LEN = 16;
    /** sizeof(struct bpf_pidns_info): pid and tgid, u32 each. */
    static final int PIDNS_INFO_SIZE = 8;
    /** Where x86-64's direct map of physical memory starts (page_offset_base without KASLR). */
    private static final long DIRECT_MAP = 0xffff888000000000L;

    private static final Path THREAD_SELF = Path.of("/proc/thread-self");
    private static final Path PID_NS = Path.of("/proc/thread-self/ns/pid");

    /** tgid and pid (kernel naming: the thread's id is its pid) of the calling thread; fixed for its life. */
    private static final ThreadLocal<long[]> IDS = ThreadLocal.withInitial(CurrentTask::readIds);

    private CurrentTask() {
    }

    static final HelperTable HELPERS = HelperTable.builder()
            .add(GET_CURRENT_PID_TGID, (m, r1, r2, r3, r4, r5) -> pidTgid())
            .add(GET_CURRENT_UID_GID, (m, r1, r2, r3, r4, r5) -> uidGid())
            .add(GET_CURRENT_COMM, CurrentTask::getCurrentComm)
            .add(GET_CURRENT_TASK, (m, r1, r2, r3, r4, r5) -> taskPointer())
            .add(GET_CURRENT_TASK_BTF, (m, r1, r2, r3, r4, r5) -> taskPointer())
            .add(GET_NS_CURRENT_PID_TGID, CurrentTask::getNsCurrentPidTgid)
            .add(SEND_SIGNAL, (m, sig, r2, r3, r4, r5) -> sendSignal(sig))
            .add(SEND_SIGNAL_THREAD, (m, sig, r2, r3, r4, r5) -> sendSignal(sig))
            .build();

    /** tgid in the upper 32 bits, the thread's id in the lower. */
    static long pidTgid() {
        long[] ids = IDS.get();
        return ids[0] << 32 | ids[1];
    }

    /** The real gid in the upper 32 bits, the real uid in the lower (current_uid_gid: the cred's uid and gid). */
    static long uidGid() {
        long uid = 0;
        long gid = 0;
        for (String line : read(THREAD_SELF.resolve("status")).split("\n")) {
            if (line.startsWith("Uid:")) {
                uid = Long.parseLong(line.substring(4).strip().split("\\s+")[0]);
            } else if (line.startsWith("Gid:")) {
                gid = Long.parseLong(line.substring(4).strip().split("\\s+")[0]);
            }
        }
        return gid << 32 | (uid & 0xffffffffL);
    }

    /** The thread's comm, at most TASK_COMM_LEN - 1 bytes. */
    static byte[] comm() {
        byte[] c = read(THREAD_SELF.resolve("comm")).strip().getBytes(StandardCharsets.UTF_8);
        return c.length < COMM_LEN ? c : java.util.Arrays.copyOf(c, COMM_LEN - 1);
    }

    static long taskPointer() {
        return DIRECT_MAP + (IDS.get()[1] << 14);
    }

    /** long bpf_get_current_comm(char *buf, u32 size): strscpy_pad of the comm; always 0. */
    private static long getCurrentComm(Machine m, long buf, long size, long r3, long r4, long r5) {
        byte[] c = comm();
        int n = (int) size;
        for (int i = 0; i < n; i++) {
            m.store(buf + i, 1, i < n - 1 && i < c.length ? c[i] & 0xff : 0);
        }
        return 0;
    }

    /**
     * long bpf_get_ns_current_pid_tgid(u64 dev, u64 ino, struct bpf_pidns_info *nsdata, u32 size):
     * the thread's pid and tgid as the pid namespace (dev, ino) numbers them, when that is the
     * thread's own; otherwise, or for a size that is not the struct's, -EINVAL with nsdata zeroed.
     */
    private static long getNsCurrentPidTgid(Machine m, long dev, long ino, long nsdata, long size, long r5) {
        int n = (int) size;
        boolean match = n == PIDNS_INFO_SIZE && dev == (dev & 0xffffffffL) && ownPidNs(dev, ino);
        if (!match) {
            for (int i = 0; i < n; i++) {
                m.store(nsdata + i, 1, 0);
            }
            return -Errnos.EINVAL;
        }
        long[] ids = IDS.get();
        m.store(nsdata, 4, ids[1]);
        m.store(nsdata + 4, 4, ids[0]);
        return 0;
    }

    /** ns_match: the nsfs inode and device of the thread's pid namespace. */
    private static boolean ownPidNs(long dev, long ino) {
        try {
            long nsDev = ((Number) Files.getAttribute(PID_NS, "unix:dev")).longValue();
            long nsIno = ((Number) Files.getAttribute(PID_NS, "unix:ino")).longValue();
            return nsIno == ino && nsDev == dev;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * long bpf_send_signal(u32 sig) and bpf_send_signal_thread(u32 sig): -EINVAL for a signal past
     * _NSIG, else 0. Signal 0 is only the kernel's permission check, which a task passes for itself.
     * Any other signal is answered as sent but is not delivered: the current task here is the
     * engine's own thread, and a simulator that killed or stopped itself on a program's word would
     * help no one (docs/fidelity.md lists this).
     */
    private static long sendSignal(long sig) {
        return (sig & 0xffffffffL) > NSIG ? -Errnos.EINVAL : 0;
    }

    /** /proc/thread-self is a link to PID/task/TID. */
    private static long[] readIds() {
        try {
            String[] parts = Files.readSymbolicLink(THREAD_SELF).toString().split("/");
            return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[2])};
        } catch (IOException | RuntimeException e) {
            long pid = ProcessHandle.current().pid();
            return new long[] {pid, pid};
        }
    }

    /** procfs reports size 0: a stream, not Files.readString. */
    private static String read(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
