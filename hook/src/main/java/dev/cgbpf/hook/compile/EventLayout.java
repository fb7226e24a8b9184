package dev.cgbpf.hook.compile;

/**
 * The denial event record the programs write into the ring buffer, little-endian, 72 bytes,
 * defined once here: the compilers store at these offsets and {@link dev.cgbpf.hook.events.DenialEvent#decode} reads
 * them. A record of another size is not one of ours (the reader skips it, counted).
 * <pre>
 *   0  u64 cgroup_id    bpf_get_current_cgroup_id(): the container's cgroup (its inode number)
 *   8  u64 pid_tgid     bpf_get_current_pid_tgid(): tgid (the process id) high, tid low
 *  16  char comm[16]    bpf_get_current_comm(): the thread's name, NUL-padded
 *  32  u32 kind         {@link EventKind}
 *  36  u32 rule         which rule decided, per kind (the attach record's rule list names it)
 *  40  u32 a0           socket: family; device: access_type ((access &lt;&lt; 16) | type)
 *  44  u32 a1           socket: type; device: major
 *  48  u32 a2           socket: protocol; device: minor
 *  52  u32 port         sock_addr: user_port in host order
 *  56  u8  addr[16]     sock_addr: the address judged, network order (IPv4 in the first 4 bytes)
 * </pre>
 * The programs build the record on their stack at {@link #STACK_OFF} (below the 4 bytes the
 * counter key uses at r10-4) and hand it to bpf_ringbuf_output.
 */
public final class EventLayout {
    public static final int CGROUP_ID = 0;
    public static final int PID_TGID = 8;
    public static final int COMM = 16;
    public static final int COMM_LEN = 16;
    public static final int KIND = 32;
    public static final int RULE = 36;
    public static final int A0 = 40;
    public static final int A1 = 44;
    public static final int A2 = 48;
    public static final int PORT = 52;
    public static final int ADDR = 56;
    public static final int SIZE = 72;
    /** Where on the program's stack the record is built: r10 + STACK_OFF, 8-byte aligned. */
    public static final int STACK_OFF = -80;

    private EventLayout() {
    }
}
