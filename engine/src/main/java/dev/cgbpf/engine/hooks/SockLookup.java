package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.Region;
import java.util.Arrays;

/**
 * The socket lookups a program may make (kernel: bpf_sk_lookup_tcp, bpf_sk_lookup_udp,
 * bpf_sk_release, bpf_sk_fullsock), on the engine's socket layer. A lookup takes a
 * {@code struct bpf_sock_tuple}: 12 bytes (IPv4 saddr, daddr, sport, dport) or 36 (IPv6), the
 * ports in network order; any other size or non-zero flags find nothing, and so does a netns id
 * that is a non-negative s32 (a namespace by id; any negative s32, BPF_F_CURRENT_NETNS among them,
 * is the caller's). What it finds is a socket bound to daddr:dport (for TCP a
 * listener): established connections are not looked up, because the engine's connections end
 * with their probe; nor are the host's own sockets, which the engine does not know (a lookup of
 * sshd's port finds it on the kernel, nothing on the engine). The socket is handed to the program
 * as a full {@code struct bpf_sock} (bpf_skc_lookup_tcp: a sock_common) until sk_release.
 */
final class SockLookup {
    static final int SK_LOOKUP_TCP = 84;
    static final int SK_LOOKUP_UDP = 85;
    static final int SK_RELEASE = 86;
    static final int SK_FULLSOCK = 95;
    static final int SKC_LOOKUP_TCP = 99;
    static final int GET_LISTENER_SOCK = 98;
    /** sizeof(bpf_sock_tuple.ipv4) and .ipv6. */
    static final int TUPLE_V4 = 12;
    static final int TUPLE_V6 = 36;

    private SockLookup() {
    }

    static long lookupTcp(Machine m, long ctx, long tuple, long size, long netns, long flags) {
        return lookup(m, InetSock.IPPROTO_TCP, tuple, (int) size, netns, flags);
    }

    static long lookupUdp(Machine m, long ctx, long tuple, long size, long netns, long flags) {
        return lookup(m, InetSock.IPPROTO_UDP, tuple, (int) size, netns, flags);
    }

    /**
     * struct bpf_sock_common *bpf_skc_lookup_tcp(...): the same lookup, handed out as a sock_common
     * (bpf_sk_fullsock and bpf_tcp_sock lead from it to the full socket). The kernel's also finds
     * request and time-wait sockets, which the engine does not model, and established connections,
     * which the engine does not look up ({@link SockLookup}).
     */
    static long skcLookupTcp(Machine m, long ctx, long tuple, long size, long netns, long flags) {
        InetSock found = find(m, InetSock.IPPROTO_TCP, tuple, (int) size, netns, flags);
        return found == null ? 0 : acquire(m, found, BpfSockCtx.View.SOCK_COMMON);
    }

    /**
     * long bpf_sk_release(sk): 0. The reference's pointers (the lookup's and what sk_fullsock and
     * tcp_sock derived from it) leave the run, so their slots serve later lookups; the kernel takes
     * no reference on a listener (SOCK_RCU_FREE), so nothing else changes.
     */
    static long release(Machine m, long sk, long r2, long r3, long r4, long r5) {
        int origin = originOf(m.region(sk, 1, false));
        if (origin >= 0) {
            m.unmapRunLocal(r -> originOf(r) == origin);
        }
        return 0;
    }

    /** The acquired reference a handed-out pointer belongs to (its run-local slot), -1 for none. */
    private static int originOf(Region r) {
        if (r.ctx() instanceof BpfSockCtx v) {
            return v.origin();
        }
        return r.ctx() instanceof BpfTcpSockCtx t ? t.origin() : -1;
    }

    /**
     * struct bpf_sock *bpf_sk_fullsock(sk): the socket as a full one. Every socket of the engine is
     * full (request and time-wait sockets never reach a scenario cgroup's programs).
     */
    static long fullsock(Machine m, long sk, long r2, long r3, long r4, long r5) {
        Region r = m.region(sk, 1, false);
        if (!(r.ctx() instanceof BpfSockCtx view)) {
            throw new dev.cgbpf.engine.interp.Fault("bpf_sk_fullsock: R1 is not a socket");
        }
        if (view.isFull()) {
            return sk;
        }
        return expose(m, view.sock(), view.origin());
    }

    /**
     * struct bpf_sock *bpf_get_listener_sock(sk): sk_to_full_sk(sk) when it is a TCP socket in
     * TCP_LISTEN (a listener is SOCK_RCU_FREE), NULL otherwise. Every socket of the engine is full
     * (no request socket leads to its listener here).
     */
    static long listenerSock(Machine m, long sk, long r2, long r3, long r4, long r5) {
        Region r = m.region(sk, 1, false);
        if (!(r.ctx() instanceof BpfSockCtx view)) {
            throw new dev.cgbpf.engine.interp.Fault("bpf_get_listener_sock: R1 is not a socket");
        }
        InetSock s = view.sock();
        if (s.protocol() != InetSock.IPPROTO_TCP || s.state != InetSock.TCP_LISTEN) {
            return 0;
        }
        return view.isFull() ? sk : expose(m, s, view.origin());
    }

    private static long lookup(Machine m, int protocol, long tuple, int size, long netns, long flags) {
        InetSock found = find(m, protocol, tuple, size, netns, flags);
        return found == null ? 0 : acquire(m, found, BpfSockCtx.View.SOCKET);
    }

    private static InetSock find(Machine m, int protocol, long tuple, int size, long netns, long flags) {
        if (size != TUPLE_V4 && size != TUPLE_V6) {
            return null;
        }
        if (flags != 0 || (int) netns >= 0) {
            // a non-negative s32 names a network namespace by id: the engine's has no peers with ids
            return null;
        }
        SocketLayer net = m.env(HookEnv.class).net();
        if (net == null) {
            return null; // a hook run at library level, with no socket layer
        }
        byte[] t = m.readBytes(tuple, size);
        int addrLen = size == TUPLE_V4 ? 4 : 16;
        byte[] daddr = Arrays.copyOfRange(t, addrLen, 2 * addrLen);
        int dport = ((t[2 * addrLen + 2] & 0xff) << 8) | (t[2 * addrLen + 3] & 0xff);
        SockAddr dest = new SockAddr(daddr);
        if (dest.isV4Mapped()) {
            return null; // an IPv6 lookup sees IPv6 sockets only, and no listener is bound to ::
        }
        return net.lookupBound(protocol, dest, dport);
    }

    /**
     * A lookup's reference: a new run-local pointer until it is released (two lookups of one socket
     * are two references); NULL if the run has no slot left.
     */
    static long acquire(Machine m, InetSock sk, BpfSockCtx.View view) {
        return m.mapRunLocal(slot -> Region.ctx(slot, BpfSockCtx.pointerView(sk, view, slot)));
    }

    /**
     * The socket as a full PTR_TO_SOCKET derived from a pointer of reference {@code origin} (-1: the
     * context's, not acquired): one per socket and reference for the run, as the kernel has one
     * address per socket.
     */
    private static long expose(Machine m, InetSock sk, int origin) {
        BpfSockCtx.View full = BpfSockCtx.View.SOCKET;
        return m.mapRunLocal(r -> r.ctx() instanceof BpfSockCtx v && v.sock() == sk && v.view() == full
                        && v.origin() == origin,
                slot -> Region.ctx(slot, BpfSockCtx.pointerView(sk, full, origin)));
    }
}
