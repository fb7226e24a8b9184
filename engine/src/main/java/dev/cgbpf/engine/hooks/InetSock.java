package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.Probe;

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
    static final int TCP_LISTEN = 10;

    private final boolean v6;
    private final int type;
    private final int protocol;
    int boundDevIf;
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

    InetSock(boolean v6, int type, int protocol) {
        this.v6 = v6;
        this.type = type;
        this.protocol = protocol;
    }

    /**
     * socket(2)'s protocol resolution (inet_create's walk of inetsw): 0 picks the type's protocol;
     * stream takes TCP, dgram UDP, raw any non-zero protocol; anything else is EPROTONOSUPPORT,
     * reported here as -1.
     */
    static int resolveProtocol(Probe.SockType type, int protocol) {
        return switch (type) {
            case STREAM -> protocol == 0 || protocol == IPPROTO_TCP ? IPPROTO_TCP : -1;
            case DGRAM -> protocol == 0 || protocol == IPPROTO_UDP ? IPPROTO_UDP : -1;
            case RAW -> protocol > 0 && protocol <= 255 ? protocol : -1;
        };
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
        return v6 ? AF_INET6 : AF_INET;
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
