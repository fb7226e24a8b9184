package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;

/**
 * {@code struct bpf_sock}: the context of cgroup_sock programs (sock_create, post_bind4/6), and
 * the read-only view a {@code sk} pointer of another context leads to.
 *
 * <pre>
 *   0 bound_dev_if  4 family  8 type  12 protocol  16 mark  20 priority  24 src_ip4  28 src_ip6[4]
 *  44 src_port (host order)  48 dst_port (__be16, then 2 bytes of padding)  52 dst_ip4  56 dst_ip6[4]
 *  72 state  76 rx_queue_mapping          (80 bytes)
 * </pre>
 *
 * <p>Access: bpf_sock_is_valid_access, then per use: as a cgroup_sock context
 * (__sock_filter_check_attach_type) bound_dev_if, mark and priority exist only for sock_create,
 * where they are also writable (4 bytes); src_ip4 only for post_bind4, src_ip6 only for
 * post_bind6, src_port for both, read-only; the rest read-only. Through a PTR_TO_SOCKET every
 * field is readable and nothing writable; through a PTR_TO_SOCK_COMMON (__sk_buff.sk)
 * type..priority are not there (bpf_sock_common_is_valid_access).
 */
public final class BpfSockCtx extends UapiCtx {
    // public: the hook's compilers address these fields by these offsets and compare them with
    // these values (one source of truth)
    public static final int SIZE = 80;
    public static final int BOUND_DEV_IF = 0;
    public static final int FAMILY = 4;
    public static final int TYPE = 8;
    public static final int PROTOCOL = 12;
    public static final int MARK = 16;
    public static final int PRIORITY = 20;
    public static final int SRC_IP4 = 24;
    public static final int SRC_IP6 = 28;
    public static final int SRC_PORT = 44;
    public static final int DST_PORT = 48;
    public static final int DST_IP4 = 52;
    public static final int DST_IP6 = 56;
    public static final int STATE = 72;
    public static final int RX_QUEUE_MAPPING = 76;
    /** Values of {@code family}, {@code type} and {@code protocol} (the socket's, as the task asked for it). */
    public static final int AF_INET = InetSock.AF_INET;
    public static final int AF_INET6 = InetSock.AF_INET6;
    public static final int SOCK_STREAM = InetSock.SOCK_STREAM;
    public static final int SOCK_DGRAM = InetSock.SOCK_DGRAM;
    public static final int SOCK_RAW = InetSock.SOCK_RAW;
    public static final int IPPROTO_TCP = InetSock.IPPROTO_TCP;
    public static final int IPPROTO_UDP = InetSock.IPPROTO_UDP;
    /** UDP-Lite (SOCK_DGRAM) and Multipath TCP (SOCK_STREAM): sk_protocol is a u16, 262 fits. */
    public static final int IPPROTO_UDPLITE = 136;
    public static final int IPPROTO_MPTCP = 262;

    /** How the struct is reached, which decides the access rule. */
    enum View { PROGRAM_CTX, SOCKET, SOCK_COMMON }

    private final View view;
    /** The attach type of the program whose context this is (PROGRAM_CTX only). */
    private final AttachType attachType;
    private final InetSock sock;
    /** The run-local slot of the acquired reference (a lookup) this view belongs to, -1 for none. */
    private final int origin;

    private BpfSockCtx(InetSock sock, View view, AttachType attachType, int origin) {
        super(SIZE);
        this.sock = sock;
        this.view = view;
        this.attachType = attachType;
        this.origin = origin;
        fill();
    }

    /** The context of a cgroup_sock program run at {@code type} on {@code sock}; writes go back to the socket. */
    static BpfSockCtx programCtx(InetSock sock, AttachType type) {
        return new BpfSockCtx(sock, View.PROGRAM_CTX, type, -1);
    }

    /** What a {@code sk} field of another context points to. */
    static BpfSockCtx pointerView(InetSock sock, View view) {
        return pointerView(sock, view, -1);
    }

    /** What a helper hands out, belonging to the reference acquired in run-local slot {@code origin} (-1: none). */
    static BpfSockCtx pointerView(InetSock sock, View view, int origin) {
        if (view == View.PROGRAM_CTX) {
            throw new IllegalArgumentException("a pointer view is SOCKET or SOCK_COMMON");
        }
        return new BpfSockCtx(sock, view, null, origin);
    }

    InetSock sock() {
        return sock;
    }

    View view() {
        return view;
    }

    int origin() {
        return origin;
    }

    /** Whether this view is a full socket (PTR_TO_SOCKET or a program's own context). */
    boolean isFull() {
        return view != View.SOCK_COMMON;
    }

    /** The socket's state as the kernel's convert_ctx_access reads it. */
    private void fill() {
        put(BOUND_DEV_IF, 4, sock.boundDevIf);
        put(FAMILY, 4, sock.family());
        put(TYPE, 4, sock.type());
        put(PROTOCOL, 4, sock.protocol());
        put(MARK, 4, sock.mark);
        put(PRIORITY, 4, sock.priority);
        // convert_ctx_access reads skc_rcv_saddr / skc_daddr and their v6 copies whatever the family
        putBytes(SRC_IP4, sock.skcRcvSaddr());
        putBytes(SRC_IP6, sock.skcV6RcvSaddr());
        put(SRC_PORT, 4, sock.num);
        if (sock.peer != null) {
            put(DST_PORT, 2, Short.reverseBytes((short) sock.dport) & 0xffff);
        }
        putBytes(DST_IP4, sock.skcDaddr());
        putBytes(DST_IP6, sock.skcV6Daddr());
        put(STATE, 4, sock.state);
        put(RX_QUEUE_MAPPING, 4, -1);
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        if (!bpfSockIsValidAccess(off, size)) {
            return false;
        }
        return switch (view) {
            case SOCKET -> !write;
            case SOCK_COMMON -> !write && !within(off, 1, TYPE, PRIORITY + 4);
            case PROGRAM_CTX -> checkAttachType(off, write);
        };
    }

    /** bpf_sock_is_valid_access (alignment and bounds already checked). */
    static boolean bpfSockIsValidAccess(int off, int size) {
        if (off == STATE || off == FAMILY || off == TYPE || off == PROTOCOL || off == SRC_PORT
                || off == RX_QUEUE_MAPPING || within(off, 1, SRC_IP4, SRC_IP4 + 4) || within(off, 1, SRC_IP6, SRC_IP6 + 16)
                || within(off, 1, DST_IP4, DST_IP4 + 4) || within(off, 1, DST_IP6, DST_IP6 + 16)) {
            return narrow(size);
        }
        if (within(off, 1, DST_PORT, DST_PORT + 2)) {
            // a 4-byte read takes the port and the padding; narrower reads stay inside the __be16
            return size == 4 ? off == DST_PORT : size <= 2;
        }
        if (within(off, 1, DST_PORT + 2, DST_IP4)) {
            return false; // the padding after dst_port
        }
        return size == 4;
    }

    /** __sock_filter_check_attach_type. */
    private boolean checkAttachType(int off, boolean write) {
        if (off == BOUND_DEV_IF || off == MARK || off == PRIORITY) {
            return attachType == AttachType.CGROUP_INET_SOCK_CREATE;
        }
        if (within(off, 1, SRC_IP4, SRC_IP4 + 4)) {
            return attachType == AttachType.CGROUP_INET4_POST_BIND && !write;
        }
        if (within(off, 1, SRC_IP6, SRC_IP6 + 16)) {
            return attachType == AttachType.CGROUP_INET6_POST_BIND && !write;
        }
        if (off == SRC_PORT) {
            return (attachType == AttachType.CGROUP_INET4_POST_BIND
                    || attachType == AttachType.CGROUP_INET6_POST_BIND) && !write;
        }
        return !write;
    }

    /**
     * The socket as it is now: a program's helper calls change it between reads (bpf_bind moves
     * src_ip4/src_ip6 and src_port; observed on 6.18 through ctx->sk of a connect program).
     * rx_queue_mapping of a socket without one reads 0x00000000ffffffff as u32 on the oracle build
     * (6.18.44-fc, CONFIG_XPS): the register's upper half is zero (docs/fidelity.md has the build
     * that gave a 64-bit -1).
     */
    @Override
    protected long read(int off, int size) {
        fill();
        return get(off, size);
    }

    /** Only bound_dev_if, mark and priority are writable, and they are the socket's own fields. */
    @Override
    protected void write(int off, int size, long value) {
        put(off, size, value);
        int v = (int) value;
        switch (off) {
            case BOUND_DEV_IF -> sock.boundDevIf = v;
            case MARK -> sock.mark = v;
            case PRIORITY -> sock.priority = v;
            default -> throw new IllegalStateException("field at " + off + " is not writable");
        }
    }
}
