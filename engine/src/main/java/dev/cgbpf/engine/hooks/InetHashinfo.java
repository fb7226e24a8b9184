package dev.cgbpf.engine.hooks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The sockets that hold a local port (the kernel's bind hash tables, TCP and UDP alike) and the
 * two questions asked of them: may a socket take this port (inet_csk_bind_conflict /
 * udp_lib_lport_inuse, without SO_REUSEADDR/SO_REUSEPORT), and which socket receives what is
 * sent to an address and port (__inet_lookup_listener / __udp4_lib_lookup).
 *
 * <p>The conflict rule, as the running kernel answered a 7x7 matrix of binds for TCP and UDP
 * alike: a socket covers an IPv4 side (its v4 address, all of IPv4 for 0.0.0.0, ::ffff:0.0.0.0
 * or a dual-stack ::) and an IPv6 side (its v6 address, all of IPv6 for ::; none for v4 and
 * v4-mapped binds); two sockets on one port conflict when either side overlaps. So ::1 and
 * 0.0.0.0 coexist, :: takes everything, and 127.0.0.1 and 127.0.0.2 coexist.
 */
final class InetHashinfo {
    /** net.ipv4.ip_local_port_range's default, where port 0 binds land. */
    static final int EPHEMERAL_LOW = 32768;
    static final int EPHEMERAL_HIGH = 60999;

    private final List<InetSock> bound = new ArrayList<>();

    synchronized boolean conflicts(InetSock sk, int port) {
        for (InetSock other : bound) {
            if (other != sk && other.protocol() == sk.protocol() && other.num == port
                    && (overlaps(other.boundV4(), sk.boundV4()) || overlaps(other.boundV6(), sk.boundV6()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean overlaps(byte[] a, byte[] b) {
        if (a == null || b == null) {
            return false;
        }
        return isAny(a) || isAny(b) || Arrays.equals(a, b);
    }

    private static boolean isAny(byte[] a) {
        for (byte x : a) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * sk_prot->get_port: takes {@code snum}, or for 0 the first free ephemeral port (the kernel
     * picks one at random; the probes never print it). 0, or -EADDRINUSE.
     */
    synchronized int getPort(InetSock sk, int snum) {
        if (snum == 0) {
            for (int p = EPHEMERAL_LOW; p <= EPHEMERAL_HIGH; p++) {
                if (!conflicts(sk, p)) {
                    snum = p;
                    break;
                }
            }
            if (snum == 0) {
                return -Errnos.EADDRINUSE;
            }
        } else if (conflicts(sk, snum)) {
            return -Errnos.EADDRINUSE;
        }
        sk.num = snum;
        bound.add(sk);
        return 0;
    }

    /** put_port / close: the socket gives its port back. */
    synchronized void unhash(InetSock sk) {
        bound.removeIf(s -> s == sk);
    }

    /**
     * The socket that receives what is sent to {@code dest}:{@code port}: for TCP a listening socket,
     * for UDP any bound one; v4 and v4-mapped destinations match the sockets' IPv4 sides, other IPv6
     * ones their IPv6 sides. Null when none (TCP: RST, ECONNREFUSED; UDP: ICMP port unreachable).
     */
    synchronized InetSock lookup(int protocol, SockAddr dest, int port) {
        byte[] v4 = dest.v4();
        for (InetSock s : bound) {
            if (s.protocol() != protocol || s.num != port
                    || (protocol == InetSock.IPPROTO_TCP && s.state != InetSock.TCP_LISTEN)) {
                continue;
            }
            byte[] side = v4 != null ? s.boundV4() : s.boundV6();
            if (side != null && (isAny(side) || Arrays.equals(side, v4 != null ? v4 : dest.ip()))) {
                return s;
            }
        }
        return null;
    }
}
