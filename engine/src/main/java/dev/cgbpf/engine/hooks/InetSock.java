package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.cgroup.Cgroup;

/**
 * The engine's model of one inet socket (struct sock + inet_sock): what programs read through a
 * bpf_sock and what the probes need to bind and connect it. Plain fields, set by the socket
 * layer emulation and by sock_create programs.
 */
final class InetSock {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    /** TCP_CLOSE: every fresh inet socket, stream or not, starts in it (sock_init_data). */
    static final int TCP_CLOSE = 7;
    static final int TCP_ESTABLISHED = 1;
    static final int TCP_SYN_SENT = 2;
    static final int TCP_LISTEN = 10;

    /** LOOPBACK4_IPV6: what tcp_v6_connect puts in inet_rcv_saddr of an IPv6 connection. */
    static final byte[] LOOPBACK4_IPV6 = {127, 0, 0, 6};

    private final boolean v6;
    private final int family;
    private final int type;
    private final int protocol;
    int boundDevIf;
    /**
     * sk_ipv6only: set by binding an inet6 socket to an IPv6 address that is neither :: nor
     * v4-mapped (__inet6_bind), after which v4-mapped addresses are refused: a bind EINVAL, a
     * connect ENETUNREACH.
     */
    boolean ipv6only;
    /** The options bpf_setsockopt changed (and bpf_getsockopt reads); null until a program asks. */
    SockOpt.Options options;
    int mark;
    int priority;
    int state = TCP_CLOSE;
    /** The bound local address (inet_rcv_saddr / sk_v6_rcv_saddr), null while unbound. */
    SockAddr rcvSaddr;
    /** The local port (inet_num), 0 while none. */
    int num;
    /** The connected peer, null while unconnected. */
    SockAddr peer;
    int dport;
    /**
     * inet_rcv_saddr of an AF_INET6 socket connected to an IPv6 peer: tcp_v6_connect sets it to
     * {@link #LOOPBACK4_IPV6} (observed: __sk_buff.local_ip4 and bpf_sock_ops.local_ip4 read
     * 127.0.0.6); null otherwise.
     */
    byte[] inetRcvSaddr4;
    /** The TCP state of a stream socket the engine connects (struct tcp_sock), null for others. */
    final TcpSock tcp;
    /**
     * sk_cgrp_data: the cgroup of the task that made the socket (cgroup_sk_alloc), which
     * bpf_skb_cgroup_id and bpf_sk_cgroup_id name. Null for the helper endpoints of
     * {@link SocketLayer#listen}, which the engine's caller makes outside every scenario cgroup:
     * see {@link #cgroupOr}.
     */
    Cgroup cgroup;
    /** sk_cookie: 0 until {@link SockCookie#of} gives the socket its number. */
    long cookie;
    /** sk_psock: what sockmaps and sockhashes keep of the socket, null until one takes it ({@link SockMapHelpers}). */
    dev.cgbpf.engine.maps.Psock psock;
    /**
     * Whether setting the IPv4 addresses also sets their v4-mapped IPv6 copies (sk_rcv_saddr_set /
     * sk_daddr_set do; the fake socket of BPF_PROG_TEST_RUN is written directly and has none).
     */
    boolean mirrorsV4;

    InetSock(boolean v6, int type, int protocol) {
        this(v6 ? AF_INET6 : AF_INET, type, protocol);
        this.mirrorsV4 = true;
    }

    /** A socket of any family, AF_UNSPEC (0) included (the fake socket of a test run on a non-IP frame). */
    InetSock(int family, int type, int protocol) {
        this.v6 = family == AF_INET6;
        this.family = family;
        this.type = type;
        this.protocol = protocol;
        this.tcp = type == SOCK_STREAM && protocol == IPPROTO_TCP ? new TcpSock() : null;
    }

    /**
     * The socket's cgroup; for a helper endpoint the root of the tree {@code anyInTree} is in: the
     * caller that made it lives there, as the caller of a test run does ({@link CgroupSkbTestRun}).
     */
    Cgroup cgroupOr(Cgroup anyInTree) {
        if (cgroup != null) {
            return cgroup;
        }
        Cgroup root = anyInTree;
        while (root.parent() != null) {
            root = root.parent();
        }
        return root;
    }

    static final int IPPROTO_ICMP = 1;
    static final int IPPROTO_ICMPV6 = 58;
    static final int IPPROTO_UDPLITE = 136;

    /**
     * socket(2)'s protocol resolution (inet_create's / inet6_create's walk of inetsw): 0 picks the
     * type's protocol; stream takes TCP, dgram UDP, UDP-Lite and the family's ICMP (a ping socket),
     * raw any non-zero protocol; anything else is EPROTONOSUPPORT, reported here as -1. Multipath
     * TCP (262) does not fit the scenario's protocol byte.
     */
    static int resolveProtocol(boolean v6, Probe.SockType type, int protocol) {
        return switch (type) {
            case STREAM -> protocol == 0 || protocol == IPPROTO_TCP ? IPPROTO_TCP : -1;
            case DGRAM -> protocol == 0 || protocol == IPPROTO_UDP ? IPPROTO_UDP
                    : protocol == IPPROTO_UDPLITE || protocol == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ? protocol : -1;
            case RAW -> protocol > 0 && protocol <= 255 ? protocol : -1;
        };
    }

    /** A ping socket: SOCK_DGRAM with the family's ICMP. */
    static boolean isPing(boolean v6, int type, int protocol) {
        return type == SOCK_DGRAM && protocol == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    }

    static int typeNumber(Probe.SockType type) {
        return switch (type) {
            case STREAM -> SOCK_STREAM;
            case DGRAM -> SOCK_DGRAM;
            case RAW -> SOCK_RAW;
        };
    }

    boolean v6() {
        return v6;
    }

    int family() {
        return family;
    }

    /** skc_rcv_saddr as convert_ctx_access reads it for the *_ip4 fields: 4 bytes, zeros when unset. */
    byte[] skcRcvSaddr() {
        if (!v6) {
            return rcvSaddr == null ? new byte[4] : rcvSaddr.ip();
        }
        if (rcvSaddr != null && rcvSaddr.isV4Mapped()) {
            return rcvSaddr.v4();
        }
        return inetRcvSaddr4 == null ? new byte[4] : inetRcvSaddr4.clone();
    }

    /** skc_daddr: 4 bytes, zeros when unset (an IPv6 peer leaves it unset). */
    byte[] skcDaddr() {
        if (peer == null) {
            return new byte[4];
        }
        byte[] v4 = peer.v4();
        return v4 == null ? new byte[4] : v4;
    }

    /** skc_v6_rcv_saddr: 16 bytes; a set IPv4 address of an AF_INET socket shows v4-mapped. */
    byte[] skcV6RcvSaddr() {
        return v6Copy(rcvSaddr);
    }

    /** skc_v6_daddr: 16 bytes, as {@link #skcV6RcvSaddr}. */
    byte[] skcV6Daddr() {
        return v6Copy(peer);
    }

    private byte[] v6Copy(SockAddr a) {
        if (a == null) {
            return new byte[16];
        }
        if (a.isV6()) {
            return a.ip();
        }
        return mirrorsV4 && !a.isAny() ? SockAddr.mapped(a.ip()) : new byte[16];
    }

    int type() {
        return type;
    }

    int protocol() {
        return protocol;
    }

    /** The IPv4 side of the bound address: null if none, 0.0.0.0 for all (v4 any, v6 any dual-stack). */
    byte[] boundV4() {
        if (rcvSaddr == null) {
            return null;
        }
        if (!v6) {
            return rcvSaddr.ip();
        }
        if (rcvSaddr.isAny()) {
            return SockAddr.V4_ANY; // not IPV6_V6ONLY: :: takes IPv4 too
        }
        return rcvSaddr.v4();
    }

    /** The IPv6 side of the bound address: null if none (v4 sockets, v4-mapped binds), :: for all. */
    byte[] boundV6() {
        if (rcvSaddr == null || !v6 || rcvSaddr.isV4Mapped()) {
            return null;
        }
        return rcvSaddr.ip();
    }

    @Override
    public String toString() {
        return (v6 ? "inet6 " : "inet ") + (protocol == IPPROTO_TCP ? "tcp" : protocol == IPPROTO_UDP ? "udp" : "proto " + protocol)
                + (rcvSaddr == null ? "" : " " + rcvSaddr + ":" + num);
    }
}
