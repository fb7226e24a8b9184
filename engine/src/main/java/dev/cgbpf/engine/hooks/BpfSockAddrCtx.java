package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

import java.util.List;

/**
 * {@code struct bpf_sock_addr}: the context of cgroup_sock_addr programs (bind4/6, connect4/6,
 * sendmsg4/6), a view of the sockaddr the task passed plus, for sendmsg, the source address.
 *
 * <pre>
 *   0 user_family  4 user_ip4  8 user_ip6[4]  24 user_port (network order in the low 16 bits)
 *  28 family  32 type  36 protocol  40 msg_src_ip4  44 msg_src_ip6[4]  (4 bytes padding)  64 sk  (72 bytes)
 * </pre>
 *
 * <p>Access (sock_addr_is_valid_access, checked against the program's attach type): user_ip4
 * only for bind4/connect4/sendmsg4, user_ip6 only for the v6 ones, msg_src_ip4 only for
 * sendmsg4, msg_src_ip6 only for sendmsg6. These and user_port may be read narrow (1, 2, 4
 * bytes) and written as 4-byte words; in the two v6 arrays also as 8-byte words at 8-aligned
 * offsets. user_family, family, type and protocol are read-only 4-byte words. {@code sk} is an
 * 8-byte read of a pointer to the socket's {@link BpfSockCtx} (PTR_TO_SOCKET). A user_port write
 * keeps only its low 16 bits (the kernel stores into sin_port): observed, a write of
 * {@code 0x1_0000 | htons(4243)} binds port 4243.
 */
public final class BpfSockAddrCtx extends UapiCtx {
    // public: the hook's compilers address these fields by these offsets (one source of truth)
    public static final int SIZE = 72;
    public static final int USER_FAMILY = 0;
    public static final int USER_IP4 = 4;
    public static final int USER_IP6 = 8;
    public static final int USER_PORT = 24;
    public static final int FAMILY = 28;
    public static final int TYPE = 32;
    public static final int PROTOCOL = 36;
    public static final int MSG_SRC_IP4 = 40;
    public static final int MSG_SRC_IP6 = 44;
    public static final int SK = 64;

    private final AttachType attachType;
    private final Region sockRegion;

    /**
     * @param user the address the task passed (4 bytes for user_family AF_INET, 16 for AF_INET6)
     * @param msgSrc the sendmsg source so far (IP_PKTINFO/IPV6_PKTINFO, or any), null for other hooks
     */
    BpfSockAddrCtx(AttachType attachType, InetSock sock, SockAddr user, int port, SockAddr msgSrc) {
        super(SIZE);
        this.attachType = attachType;
        this.sockRegion = Region.ctx(AddressSpace.SOCK_SLOT, BpfSockCtx.pointerView(sock, BpfSockCtx.View.SOCKET));
        put(USER_FAMILY, 4, user.isV6() ? InetSock.AF_INET6 : InetSock.AF_INET);
        putBytes(user.isV6() ? USER_IP6 : USER_IP4, user.ip());
        put(USER_PORT, 2, Short.reverseBytes((short) port) & 0xffff);
        put(FAMILY, 4, sock.family());
        put(TYPE, 4, sock.type());
        put(PROTOCOL, 4, sock.protocol());
        if (msgSrc != null) {
            putBytes(msgSrc.isV6() ? MSG_SRC_IP6 : MSG_SRC_IP4, msgSrc.ip());
        }
    }

    private boolean v4Hook() {
        return attachType == AttachType.CGROUP_INET4_BIND || attachType == AttachType.CGROUP_INET4_CONNECT
                || attachType == AttachType.CGROUP_UDP4_SENDMSG;
    }

    private boolean v6Hook() {
        return attachType == AttachType.CGROUP_INET6_BIND || attachType == AttachType.CGROUP_INET6_CONNECT
                || attachType == AttachType.CGROUP_UDP6_SENDMSG;
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        boolean ip4 = within(off, 1, USER_IP4, USER_IP4 + 4);
        boolean ip6 = within(off, 1, USER_IP6, USER_IP6 + 16);
        boolean src4 = within(off, 1, MSG_SRC_IP4, MSG_SRC_IP4 + 4);
        boolean src6 = within(off, 1, MSG_SRC_IP6, MSG_SRC_IP6 + 16);
        if ((ip4 && !v4Hook()) || (ip6 && !v6Hook())
                || (src4 && attachType != AttachType.CGROUP_UDP4_SENDMSG)
                || (src6 && attachType != AttachType.CGROUP_UDP6_SENDMSG)) {
            return false;
        }
        if (ip4 || ip6 || src4 || src6 || within(off, 1, USER_PORT, USER_PORT + 4)) {
            if (wide(off, size, USER_IP6, USER_IP6 + 16) || wide(off, size, MSG_SRC_IP6, MSG_SRC_IP6 + 16)) {
                return true;
            }
            return write ? size == 4 : narrow(size) && off + size <= fieldEnd(off);
        }
        if (off == SK) {
            return !write && size == 8;
        }
        // user_family, family, type, protocol; the padding before sk is no field
        return !write && size == 4 && (off == USER_FAMILY || off == FAMILY || off == TYPE || off == PROTOCOL);
    }

    private static int fieldEnd(int off) {
        return (off & ~3) + 4;
    }

    @Override
    protected long read(int off, int size) {
        if (off == SK) {
            return sockRegion.base();
        }
        if (off == USER_PORT + 2 && size == 2) {
            // sin_port is the 2-byte field behind user_port: the verifier's narrow-load rewrite
            // shifts only when the access is narrower than that, so the upper half reads the port
            // (observed: a u16 read at +26 gives the port, as one at +24)
            return get(USER_PORT, 2);
        }
        return get(off, size);
    }

    @Override
    protected void write(int off, int size, long value) {
        if (off == USER_PORT) {
            put(USER_PORT, 2, value);
            return;
        }
        put(off, size, value);
    }

    @Override
    public List<Region> regions() {
        return List.of(sockRegion);
    }

    /** The address as the programs left it: user_ip4 (4 bytes) or user_ip6 (16), per user_family. */
    SockAddr userAddr() {
        boolean v6 = get(USER_FAMILY, 4) == InetSock.AF_INET6;
        return new SockAddr(v6 ? getBytes(USER_IP6, 16) : getBytes(USER_IP4, 4));
    }

    /** user_port in host order. */
    int userPort() {
        return Short.reverseBytes((short) get(USER_PORT, 2)) & 0xffff;
    }

    SockAddr msgSrcV4() {
        return new SockAddr(getBytes(MSG_SRC_IP4, 4));
    }

    SockAddr msgSrcV6() {
        return new SockAddr(getBytes(MSG_SRC_IP6, 16));
    }
}
