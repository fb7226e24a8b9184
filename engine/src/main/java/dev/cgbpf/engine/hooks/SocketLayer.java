package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.cgroup.BpfProgArray;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.maps.Psock;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small emulation of the inet socket layer of a loopback-only host, enough to answer the socket
 * probes as the kernel does: socket(2) with the sock_create hook, bind(2) with the bind and
 * post_bind hooks, connect(2) with the connect hooks and bpf_bind, and an unconnected UDP
 * sendmsg(2) with the sendmsg hooks; plus the helper endpoints ({@link #listen}) the probes talk to.
 *
 * <p>Every answer below was checked on Linux 6.18 with real sockets and attached programs:
 * <ul>
 * <li>A program's 0 refuses with EPERM; bind takes R0 bit 1 as "skip the CAP_NET_BIND_SERVICE
 *     check" (so 3 allows, 2 refuses).</li>
 * <li>bind: a rewritten address must be INADDR_ANY, local (127/8), multicast or broadcast, else
 *     EADDRNOTAVAIL; IPv6 wants ::, ::1 or a non-link-local multicast (fe80::/ff02:: without an
 *     interface: EINVAL); an inet6 socket takes a v4-mapped address (bound ::ffff:127.0.0.1).</li>
 * <li>connect: INADDR_ANY / :: become 127.0.0.1 / ::1; TCP without a listener (or to port 0) is
 *     ECONNREFUSED; the local address is 127.0.0.1 / ::1 / ::ffff:127.0.0.1 unless bpf_bind chose
 *     one; an inet6 socket runs the connect6 programs also for a v4-mapped destination.</li>
 * <li>sendmsg: an inet6 socket sending to a v4-mapped address runs the sendmsg4 programs (as
 *     udp_sendmsg); port 0 after the programs is EINVAL; a sendmsg6 program writing a v4-mapped
 *     address is ENOTSUPP; a v4 source (msg_src_ip4 or IP_PKTINFO) that is multicast, broadcast
 *     or in 0/8 is EINVAL, one that is not local ENETUNREACH; an IPv6 source a program wrote is
 *     sent as it is (observed: fd00::99 reached the listener); an IPV6_PKTINFO source that is not
 *     local (v4-mapped included) is EINVAL before any program runs.</li>
 * </ul>
 *
 * <p>Packets: a TCP connect's handshake and close run the socket's cgroup_skb and sock_ops
 * programs ({@link TcpConnection}); a UDP sendmsg's datagram runs its egress programs, whose
 * refusal is EPERM (or, with congestion notification, a datagram that silently never arrives).
 *
 * <p>Where the emulated host differs from a real one: it has no interface but lo, so an address a
 * program rewrites to that a real host owns (its eth0 address) is not local here; a TCP connect
 * leaving the host is ETIMEDOUT and a UDP connect ENETUNREACH; ephemeral ports are the lowest
 * free ones, not random.
 */
public final class SocketLayer {
    /** How long the probes wait for a handshake or a datagram, as the kernel backend does. */
    static final int PROBE_TIMEOUT_MS = 2000;

    private final HookRunner runner;
    private final SkbHooks skb;
    private final SockOpsHook sockOps;
    private final InetHashinfo hash = new InetHashinfo();
    private final List<InetSock> listeners = new ArrayList<>();
    /** The kernel's random numbers (ISNs, IP ids, flow labels, hashes): pseudo-random, the same every run. */
    private long randomState = 0x6367_6270_665f_6832L;
    private int datagrams;

    public SocketLayer(HookRunner runner) {
        this.runner = runner;
        this.skb = new SkbHooks(runner, this);
        this.sockOps = new SockOpsHook(runner);
    }

    /** splitmix64, for the values the kernel draws at random. */
    private synchronized int random() {
        long z = (randomState += 0x9e37_79b9_7f4a_7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58_476d_1ce4_e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d0_49bb_1331_11ebL;
        return (int) (z ^ (z >>> 31));
    }

    // ---------------------------------------------------------------- socket(2)

    /** socket(2) from a task in {@code cgroup}: the new socket's bound_dev_if, mark and priority. */
    public Probe.SocketInfo socket(Cgroup cgroup, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        InetSock sk = create(cgroup, family, type, protocol);
        return new Probe.SocketInfo(sk.boundDevIf, sk.mark, sk.priority);
    }

    /** inet_create / inet6_create, then the sock_create programs (a refusal releases the socket). */
    private InetSock create(Cgroup cgroup, Probe.Family family, Probe.SockType type, int protocol) throws BpfException {
        boolean v6 = family == Probe.Family.INET6;
        int proto = InetSock.resolveProtocol(v6, type, protocol);
        if (proto < 0) {
            throw Errnos.fail(-Errnos.EPROTONOSUPPORT, "socket(" + family.scenarioName() + ", " + type.scenarioName()
                    + ", " + protocol + "): protocol not supported");
        }
        if (InetSock.isPing(v6, InetSock.typeNumber(type), proto) && !PingGroupRange.allowsCaller()) {
            // ping_init_sock, the protocol's init, refuses before the sock_create programs run
            throw Errnos.fail(-Errnos.EACCES, "socket(" + family.scenarioName() + ", dgram, " + protocol
                    + "): not in net.ipv4.ping_group_range");
        }
        InetSock sk = new InetSock(family == Probe.Family.INET6, InetSock.typeNumber(type), proto);
        sk.cgroup = cgroup;
        AttachType at = AttachType.CGROUP_INET_SOCK_CREATE;
        runOrRefuse(cgroup, at, sk, BpfSockCtx.programCtx(sk, at), false, "socket(2)");
        return sk;
    }

    /**
     * A socket call's hook (BPF_CGROUP_RUN_PROG_INET_SOCK, BPF_CGROUP_RUN_SA_PROG): {@code cgroup}'s
     * programs at {@code at} run over {@code ctx}, with this layer as bpf_bind's socket layer; when
     * they refuse, {@code call} fails with the array's errno (EPERM unless a program set another).
     *
     * @param retFlags true for bind, whose programs' R0 bit 1 is a flag (see the class comment)
     */
    private void runOrRefuse(Cgroup cgroup, AttachType at, InetSock sk, ProgContext ctx, boolean retFlags, String call)
            throws BpfException {
        BpfProgArray.RunResult r = runner.run(cgroup, at, ctx, new HookEnv(cgroup, at, sk, this), retFlags);
        if (!r.allowed()) {
            throw Errnos.fail(r.retval(), call + " refused by the " + at.scenarioName() + " programs of " + cgroup);
        }
    }

    private static Probe.SockType typeOf(Probe.Proto proto) {
        return proto == Probe.Proto.TCP ? Probe.SockType.STREAM : Probe.SockType.DGRAM;
    }

    // ---------------------------------------------------------------- listen

    /**
     * A helper endpoint outside every scenario cgroup (no program runs): a listening TCP socket or a
     * bound UDP socket, kept until {@link #close}. Its bind may fail as any bind (EADDRINUSE).
     */
    public void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        checkPort(port);
        boolean v6 = addr.getAddress().length == 16;
        InetSock sk = new InetSock(v6, proto == Probe.Proto.TCP ? InetSock.SOCK_STREAM : InetSock.SOCK_DGRAM,
                proto == Probe.Proto.TCP ? InetSock.IPPROTO_TCP : InetSock.IPPROTO_UDP);
        // __inet_bind stores inet_rcv_saddr itself, not through sk_rcv_saddr_set: a bound IPv4
        // socket's skc_v6_rcv_saddr stays zero (observed through bpf_skc_lookup_tcp's src_ip6)
        sk.mirrorsV4 = false;
        int err = inetBind(sk, SockAddr.of(addr, v6), port, true, false, null);
        if (err != 0) {
            throw Errnos.fail(err, "listen on " + addr.getHostAddress() + " port " + port);
        }
        if (proto == Probe.Proto.TCP) {
            sk.state = InetSock.TCP_LISTEN;
        }
        synchronized (listeners) {
            listeners.add(sk);
        }
    }

    /** A socket bound to dest:port of this protocol (for TCP a listener), for bpf_sk_lookup_*; null if none. */
    InetSock lookupBound(int protocol, SockAddr dest, int port) {
        return hash.lookup(protocol, dest, port);
    }

    /**
     * The helper endpoint at addr:port of this protocol as a sockmap or sockhash holds it (its
     * {@link Psock}, made at the first call), for an update from user space with its fd; null when
     * there is none.
     */
    public Psock listenerPsock(InetAddress addr, int port, Probe.Proto proto) {
        int protocol = proto == Probe.Proto.TCP ? InetSock.IPPROTO_TCP : InetSock.IPPROTO_UDP;
        synchronized (listeners) {
            for (InetSock sk : listeners) {
                if (sk.protocol() == protocol && sk.num == port && sk.rcvSaddr.equals(SockAddr.of(addr, sk.v6()))) {
                    return SockMapHelpers.psockOf(sk);
                }
            }
        }
        return null;
    }

    /** Closes the helper endpoints (each leaves the sockmaps and sockhashes that hold it). */
    public void close() {
        synchronized (listeners) {
            for (InetSock sk : listeners) {
                SockMapHelpers.close(sk);
                hash.unhash(sk);
            }
            listeners.clear();
        }
    }

    // ---------------------------------------------------------------- bind(2)

    /**
     * socket(2) + bind(2) from a task in {@code cgroup}. The answer's port is 0 when the port asked
     * for, after the programs, is 0 (an ephemeral port, never printed).
     */
    public Probe.Bound bind(Cgroup cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        checkPort(port);
        InetSock sk = create(cgroup, family, typeOf(proto), 0);
        try {
            AttachType at = sk.v6() ? AttachType.CGROUP_INET6_BIND : AttachType.CGROUP_INET4_BIND;
            BpfSockAddrCtx ctx = new BpfSockAddrCtx(at, sk, SockAddr.of(addr, sk.v6()), port, null);
            runOrRefuse(cgroup, at, sk, ctx, true, "bind");
            int wanted = ctx.userPort();
            int err = inetBind(sk, ctx.userAddr(), wanted, false, false, cgroup);
            if (err != 0) {
                throw Errnos.fail(err, "bind to " + ctx.userAddr() + " port " + wanted);
            }
            return new Probe.Bound(sk.rcvSaddr.toInet(), wanted == 0 ? 0 : sk.num);
        } finally {
            hash.unhash(sk);
        }
    }

    /**
     * __inet_bind / __inet6_bind after the bind programs: 0 or -errno. {@code fromBpf} is
     * BIND_FROM_BPF (no post_bind programs), {@code noPort} BIND_FORCE_ADDRESS_NO_PORT (bpf_bind with
     * port 0: the address is taken, the port waits for the connect). {@code cgroup} runs post_bind.
     */
    int inetBind(InetSock sk, SockAddr addr, int port, boolean fromBpf, boolean noPort, Cgroup cgroup) {
        if (!sk.v6()) {
            if (addr.isV6()) {
                return -Errnos.EAFNOSUPPORT;
            }
            if (!InetAddrType.v4BindAllowed(addr.ip())) {
                return -Errnos.EADDRNOTAVAIL;
            }
            if (sk.state != InetSock.TCP_CLOSE || sk.num != 0) {
                return -Errnos.EINVAL;
            }
        } else {
            if (!addr.isV6()) {
                return -Errnos.EAFNOSUPPORT;
            }
            if (sk.state != InetSock.TCP_CLOSE || sk.num != 0) {
                return -Errnos.EINVAL;
            }
            if (!addr.isAny() && !InetAddrType.deviceExists(sk.boundDevIf)) {
                // __inet6_bind looks the bound device up before it checks the address (observed: ENODEV)
                return -Errnos.ENODEV;
            }
            if (addr.isV4Mapped()) {
                if (sk.ipv6only) {
                    // "binding to v4-mapped address on a v6-only socket makes no sense" (observed: a
                    // second bpf_bind, to ::ffff:127.0.0.1 after ::1, is EINVAL)
                    return -Errnos.EINVAL;
                }
                if (!InetAddrType.v4BindAllowed(addr.v4())) {
                    return -Errnos.EADDRNOTAVAIL;
                }
            } else if (!addr.isAny()) {
                byte[] a = addr.ip();
                if (InetAddrType.v6NeedsScopeId(a) && sk.boundDevIf == 0) {
                    return -Errnos.EINVAL;
                }
                if (!InetAddrType.v6Multicast(a) && !InetAddrType.v6Loopback(a)) {
                    return -Errnos.EADDRNOTAVAIL;
                }
            }
        }
        sk.rcvSaddr = addr;
        boolean savedIpv6only = sk.ipv6only;
        if (sk.v6() && !addr.isAny() && !addr.isV4Mapped()) {
            // __inet6_bind: an IPv6 address leaves the IPv4 side LOOPBACK4_IPV6 (observed: src_ip4 127.0.0.6)
            sk.inetRcvSaddr4 = InetSock.LOOPBACK4_IPV6;
            sk.ipv6only = true;
        }
        if (port != 0 || !noPort) {
            int err = hash.getPort(sk, port);
            if (err != 0) {
                sk.rcvSaddr = null;
                sk.ipv6only = savedIpv6only;
                return err;
            }
            if (!fromBpf) {
                AttachType at = sk.v6() ? AttachType.CGROUP_INET6_POST_BIND : AttachType.CGROUP_INET4_POST_BIND;
                BpfProgArray.RunResult r = runner.run(cgroup, at, BpfSockCtx.programCtx(sk, at),
                        new HookEnv(cgroup, at, sk, this), false);
                if (!r.allowed()) {
                    hash.unhash(sk);
                    sk.ipv6only = savedIpv6only;
                    sk.rcvSaddr = null;
                    sk.num = 0;
                    return r.retval();
                }
            }
        }
        return 0;
    }

    /**
     * bpf_bind from a connect program: a struct sockaddr_in (16 bytes at least) or sockaddr_in6 (24),
     * family in host order, port and address in network order. Port 0 binds the address only.
     */
    int bpfBind(InetSock sk, byte[] sockaddr) {
        int family = ByteBuffer.wrap(sockaddr, 0, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        if (family == InetSock.AF_INET) {
            if (sockaddr.length < 16) {
                return -Errnos.EINVAL;
            }
            int port = ((sockaddr[2] & 0xff) << 8) | (sockaddr[3] & 0xff);
            return inetBind(sk, new SockAddr(Arrays.copyOfRange(sockaddr, 4, 8)), port, true, port == 0, null);
        }
        if (family == InetSock.AF_INET6) {
            if (sockaddr.length < 24) {
                return -Errnos.EINVAL;
            }
            int port = ((sockaddr[2] & 0xff) << 8) | (sockaddr[3] & 0xff);
            return inetBind(sk, new SockAddr(Arrays.copyOfRange(sockaddr, 8, 24)), port, true, port == 0, null);
        }
        return -Errnos.EAFNOSUPPORT;
    }

    // ---------------------------------------------------------------- connect(2)

    /** socket(2) + connect(2) from a task in {@code cgroup}. */
    public Probe.Connected connect(Cgroup cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        checkPort(port);
        InetSock sk = create(cgroup, family, typeOf(proto), 0);
        try {
            AttachType at = sk.v6() ? AttachType.CGROUP_INET6_CONNECT : AttachType.CGROUP_INET4_CONNECT;
            BpfSockAddrCtx ctx = new BpfSockAddrCtx(at, sk, SockAddr.of(addr, sk.v6()), port, null);
            runOrRefuse(cgroup, at, sk, ctx, false, "connect");
            SockAddr dest = ctx.userAddr();
            int dport = ctx.userPort();
            byte[] v4 = dest.v4();
            boolean local;
            boolean tcp = proto == Probe.Proto.TCP;
            if (v4 != null) {
                if (sk.ipv6only) {
                    // bound to an IPv6 address once, the socket cannot reach an IPv4 peer (observed: ENETUNREACH)
                    throw Errnos.fail(-Errnos.ENETUNREACH, "connect to " + dest + " from " + sk.rcvSaddr);
                }
                if (sk.v6() && sk.rcvSaddr != null && sk.rcvSaddr.isV4Mapped() && sourceNotRoutable(sk.rcvSaddr.v4())) {
                    // __inet6_bind keeps a v4-mapped broadcast or multicast address as inet_saddr too
                    // (__inet_bind zeroes it), and ip_route_output_key refuses that source: a multicast
                    // or limited broadcast one as EINVAL, lo's broadcast as not local (ENETUNREACH)
                    byte[] s4 = sk.rcvSaddr.v4();
                    boolean invalid = InetAddrType.v4Multicast(s4) || InetAddrType.v4Lbcast(s4);
                    throw Errnos.fail(invalid ? -Errnos.EINVAL : -Errnos.ENETUNREACH, "connect from " + sk.rcvSaddr);
                }
                if (InetAddrType.v4Any(v4)) {
                    v4 = SockAddr.V4_LOOPBACK;
                }
                if (!InetAddrType.deviceExists(sk.boundDevIf)) {
                    // ip_route_connect with an oif that does not exist
                    throw Errnos.fail(-Errnos.ENODEV, "connect: no device with ifindex " + sk.boundDevIf);
                }
                if (InetAddrType.v4Broadcast(v4)) {
                    // tcp_v4_connect refuses a broadcast route; a datagram socket needs SO_BROADCAST
                    throw Errnos.fail(tcp ? -Errnos.ENETUNREACH : -Errnos.EACCES, "connect to the broadcast address "
                            + new SockAddr(v4));
                }
                local = InetAddrType.v4Loopback(v4);
                dest = new SockAddr(sk.v6() ? SockAddr.mapped(v4) : v4);
            } else {
                if (sk.rcvSaddr != null && sk.rcvSaddr.isV4Mapped()) {
                    // bound to a v4-mapped address, the socket cannot reach an IPv6 peer (observed: EAFNOSUPPORT)
                    throw Errnos.fail(-Errnos.EAFNOSUPPORT, "connect to " + dest + " from " + sk.rcvSaddr);
                }
                if (dest.isAny()) {
                    dest = new SockAddr(SockAddr.V6_LOOPBACK);
                }
                if (!InetAddrType.deviceExists(sk.boundDevIf)) {
                    // ip6_route_connect finds no route through a missing device
                    throw Errnos.fail(-Errnos.ENETUNREACH, "connect: no device with ifindex " + sk.boundDevIf);
                }
                local = InetAddrType.v6Loopback(dest.ip());
            }
            if (!local) {
                int err = proto == Probe.Proto.TCP ? -Errnos.ETIMEDOUT : -Errnos.ENETUNREACH;
                throw Errnos.fail(err, "connect to " + dest + ": the engine's host has only loopback");
            }
            if (proto == Probe.Proto.UDP) {
                if (dport == 0) {
                    // connect(2) succeeds, getpeername(2) then has no peer
                    throw Errnos.fail(-Errnos.ENOTCONN, "udp socket connected to port 0 has no peer");
                }
                // a UDP connect(2) sends no packet
                return new Probe.Connected(dest.toInet(), dport, localAddress(sk, v4 != null, false).toInet());
            }
            return tcpConnect(cgroup, sk, dest, dport, v4 != null);
        } finally {
            hash.unhash(sk);
        }
    }

    /**
     * The local address after connect: what bpf_bind chose, else the loopback route's source. An
     * inet socket bound to a broadcast or multicast address has no source address of its own
     * (__inet_bind leaves inet_saddr 0): TCP takes the route's for both (inet_update_saddr), a UDP
     * socket keeps the bound one as its local address (observed: TCP 127.0.0.1, UDP 127.255.255.255).
     */
    private static SockAddr localAddress(InetSock sk, boolean v4, boolean tcp) {
        boolean bound = sk.rcvSaddr != null && !sk.rcvSaddr.isAny()
                && !(sk.rcvSaddr.isV4Mapped() && InetAddrType.v4Any(sk.rcvSaddr.v4()));
        if (bound && tcp && !sk.v6() && sourceNotRoutable(sk.rcvSaddr.ip())) {
            return routeSource(sk, v4);
        }
        return bound ? sk.rcvSaddr : routeSource(sk, v4);
    }

    /** RTN_BROADCAST or RTN_MULTICAST: an address a socket may bind but no packet leaves from. */
    private static boolean sourceNotRoutable(byte[] v4) {
        return InetAddrType.v4Broadcast(v4) || InetAddrType.v4Multicast(v4);
    }

    /**
     * tcp_v4_connect / tcp_v6_connect to a loopback destination: the source address and an
     * ephemeral port (inet_hash_connect) unless bpf_bind gave them, then the handshake with the
     * socket's cgroup_skb and sock_ops programs ({@link TcpConnection}); a TCP listener answers, any
     * other port a RST (ECONNREFUSED); no answer let through within the probe's 2 s is ETIMEDOUT.
     */
    private Probe.Connected tcpConnect(Cgroup cgroup, InetSock sk, SockAddr dest, int dport, boolean v4)
            throws BpfException {
        sk.rcvSaddr = localAddress(sk, v4, true);
        if (sk.num == 0) {
            int err = hash.getPort(sk, 0);
            if (err != 0) {
                throw Errnos.fail(err, "no ephemeral port left for a connect to " + dest);
            }
        }
        sk.peer = dest;
        sk.dport = dport;
        if (!v4 && sk.v6()) {
            sk.inetRcvSaddr4 = InetSock.LOOPBACK4_IPV6;
        }
        boolean listening = dport != 0 && hash.lookup(InetSock.IPPROTO_TCP, dest, dport) != null;
        TcpConnection c = new TcpConnection(skb, sockOps, cgroup, sk, listening, this::random);
        switch (c.connect()) {
            case REFUSED -> throw Errnos.fail(-Errnos.ECONNREFUSED, "nothing listens on " + dest + " port " + dport);
            case TIMED_OUT -> {
                c.close(); // the probe gives up and closes the SYN_SENT socket
                throw Errnos.fail(-Errnos.ETIMEDOUT, "no handshake with " + dest + " port " + dport
                        + " within " + PROBE_TIMEOUT_MS + " ms: the cgroup's skb programs dropped it");
            }
            case ESTABLISHED -> {
                // the answer is read before the probe closes the socket
            }
        }
        Probe.Connected answer = new Probe.Connected(dest.toInet(), dport, sk.rcvSaddr.toInet());
        c.close();
        return answer;
    }

    /** The source the loopback route gives: 127.0.0.1 (v4-mapped on an inet6 socket) or ::1. */
    private static SockAddr routeSource(InetSock sk, boolean v4) {
        if (!v4) {
            return new SockAddr(SockAddr.V6_LOOPBACK);
        }
        return new SockAddr(sk.v6() ? SockAddr.mapped(SockAddr.V4_LOOPBACK) : SockAddr.V4_LOOPBACK);
    }

    // ---------------------------------------------------------------- sendmsg(2)

    /**
     * An unconnected UDP sendmsg(2) from a task in {@code cgroup}, with an optional source address
     * (IP_PKTINFO / IPV6_PKTINFO). The answer is the listener that received the datagram and the
     * source it saw; nobody receiving it is ETIMEDOUT (the kernel backend waits 2 s).
     */
    public Probe.Delivered sendmsg(Cgroup cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        checkPort(port);
        InetSock sk = create(cgroup, family, Probe.SockType.DGRAM, 0);
        try {
            // inet_send_prepare: an unbound socket takes an ephemeral port before udp_sendmsg runs
            sk.rcvSaddr = new SockAddr(sk.v6() ? SockAddr.V6_ANY : SockAddr.V4_ANY);
            int err = hash.getPort(sk, 0);
            if (err != 0) {
                throw Errnos.fail(err, "no ephemeral port left for a datagram");
            }
            SockAddr dest = SockAddr.of(addr, sk.v6());
            SockAddr from = src == null ? null : SockAddr.of(src, sk.v6());
            if (!sk.v6()) {
                return sendV4(cgroup, sk, dest.ip(), port, from == null ? SockAddr.V4_ANY : from.ip());
            }
            if (dest.isV4Mapped()) {
                // udpv6_sendmsg hands a v4-mapped destination to udp_sendmsg, whose cmsg parsing wants a mapped source
                if (from != null && !from.isV4Mapped()) {
                    throw Errnos.fail(-Errnos.EINVAL, "IPV6_PKTINFO source " + from + " for an IPv4 destination");
                }
                return sendV4(cgroup, sk, dest.v4(), port, from == null ? SockAddr.V4_ANY : from.v4());
            }
            return sendV6(cgroup, sk, dest, port, from);
        } finally {
            hash.unhash(sk);
        }
    }

    private Probe.Delivered sendV4(Cgroup cgroup, InetSock sk, byte[] dest, int port, byte[] src) throws BpfException {
        AttachType at = AttachType.CGROUP_UDP4_SENDMSG;
        BpfSockAddrCtx ctx = new BpfSockAddrCtx(at, sk, new SockAddr(dest), port, new SockAddr(src));
        // ipcm_init_sk / udpv6_sendmsg take the output interface before the programs run: one that a
        // program sets (bpf_setsockopt SO_BINDTOIFINDEX) counts from the next datagram on
        int oif = sk.boundDevIf;
        runOrRefuse(cgroup, at, sk, ctx, false, "sendmsg");
        byte[] d = ctx.userAddr().ip();
        int dport = ctx.userPort();
        if (dport == 0) {
            throw Errnos.fail(-Errnos.EINVAL, "sendmsg to port 0");
        }
        byte[] s = ctx.msgSrcV4().ip();
        if (!InetAddrType.v4Any(s)) {
            if (InetAddrType.v4Multicast(s) || InetAddrType.v4Lbcast(s) || InetAddrType.v4Zeronet(s)) {
                throw Errnos.fail(-Errnos.EINVAL, "sendmsg from " + new SockAddr(s));
            }
            if (!InetAddrType.v4Local(s)) {
                throw Errnos.fail(-Errnos.ENETUNREACH, "sendmsg from " + new SockAddr(s) + ", which is not local");
            }
        }
        if (!InetAddrType.deviceExists(oif)) {
            throw Errnos.fail(-Errnos.ENODEV, "sendmsg: no device with ifindex " + oif);
        }
        if (InetAddrType.v4Broadcast(d)) {
            // udp_sendmsg: a broadcast route without SO_BROADCAST
            throw Errnos.fail(-Errnos.EACCES, "sendmsg to the broadcast address " + new SockAddr(d));
        }
        if (InetAddrType.v4Any(d)) {
            // the output route of INADDR_ANY is the source, or loopback
            d = InetAddrType.v4Any(s) ? SockAddr.V4_LOOPBACK : s;
        }
        if (InetAddrType.v4Any(s)) {
            s = SockAddr.V4_LOOPBACK;
        }
        return transmit(cgroup, sk, new SockAddr(d), dport, new SockAddr(s));
    }

    private Probe.Delivered sendV6(Cgroup cgroup, InetSock sk, SockAddr dest, int port, SockAddr from)
            throws BpfException {
        if (from != null && !from.isAny() && !InetAddrType.v6Loopback(from.ip())) {
            throw Errnos.fail(-Errnos.EINVAL, "IPV6_PKTINFO source " + from + " is not a local address");
        }
        AttachType at = AttachType.CGROUP_UDP6_SENDMSG;
        BpfSockAddrCtx ctx = new BpfSockAddrCtx(at, sk, dest, port, from == null ? new SockAddr(SockAddr.V6_ANY) : from);
        // ipcm_init_sk / udpv6_sendmsg take the output interface before the programs run: one that a
        // program sets (bpf_setsockopt SO_BINDTOIFINDEX) counts from the next datagram on
        int oif = sk.boundDevIf;
        runOrRefuse(cgroup, at, sk, ctx, false, "sendmsg");
        SockAddr d = ctx.userAddr();
        int dport = ctx.userPort();
        if (d.isV4Mapped()) {
            throw Errnos.fail(-Errnos.ENOTSUPP, "a udp6_sendmsg program rewrote the destination to " + d);
        }
        if (dport == 0) {
            throw Errnos.fail(-Errnos.EINVAL, "sendmsg to port 0");
        }
        if (d.isAny()) {
            d = new SockAddr(SockAddr.V6_LOOPBACK);
        }
        if (!InetAddrType.deviceExists(oif)) {
            throw Errnos.fail(-Errnos.ENETUNREACH, "sendmsg: no route through ifindex " + oif);
        }
        SockAddr s = ctx.msgSrcV6();
        if (s.isAny()) {
            s = new SockAddr(SockAddr.V6_LOOPBACK);
        }
        return transmit(cgroup, sk, d, dport, s);
    }

    /**
     * ip_finish_output / ip6_finish_output: a datagram for a loopback destination passes the
     * egress programs of the sender's cgroup, then reaches the listener (which lives outside every
     * scenario cgroup: no ingress program runs). A refusal is the array's errno (EPERM), except
     * with the congestion bit (R0 2): NET_XMIT_DROP is -ENOBUFS, which udp_send_skb turns into a
     * successful send of a datagram that never arrives (the probe's ETIMEDOUT).
     */
    private Probe.Delivered transmit(Cgroup cgroup, InetSock sk, SockAddr dest, int port, SockAddr src)
            throws BpfException {
        byte[] v4 = dest.v4();
        boolean local = v4 != null ? InetAddrType.v4Loopback(v4) : InetAddrType.v6Loopback(dest.ip());
        if (local) {
            SockAddr wireSrc = v4 != null ? new SockAddr(src.v4()) : src;
            SockAddr wireDst = v4 != null ? new SockAddr(v4) : dest;
            byte[] udp = LoopbackPacket.udp(wireSrc, wireDst, sk.num, port, payload());
            int flowLabel = random() & 0xfffff;
            byte[] packet = LoopbackPacket.ip(wireSrc, wireDst, InetSock.IPPROTO_UDP, random() & 0xffff,
                    flowLabel == 0 ? 1 : flowLabel, udp);
            // over IPv6 the skb hash comes from the flow label; over IPv4 an unconnected UDP socket has none
            int hash = wireDst.isV6() ? random() | 1 : 0;
            SkbHooks.Verdict v = skb.egress(cgroup, sk, SkBuff.egress(packet, sk, hash, false));
            if (!v.pass()) {
                if (v.sendError() != 0) {
                    throw Errnos.fail(v.sendError(), "sendmsg: the cgroup_inet_egress programs of " + cgroup
                            + " dropped the datagram");
                }
                throw Errnos.fail(-Errnos.ETIMEDOUT, "the cgroup_inet_egress programs of " + cgroup
                        + " dropped the datagram with congestion notification: sendmsg returned 0, nothing arrived");
            }
        }
        return deliver(dest, port, src);
    }

    /**
     * The probe's payload: like the kernel backend's, "cgbpf-" + a 16-digit hex nonce + "-" + a
     * sequence number, so that programs see datagrams of the same length.
     */
    private synchronized byte[] payload() {
        String nonce = String.format("%08x%08x", random(), random());
        return ("cgbpf-" + nonce + "-" + (++datagrams)).getBytes(StandardCharsets.US_ASCII);
    }

    /** The datagram reaches the UDP socket bound to its destination, if it stays on this host. */
    private Probe.Delivered deliver(SockAddr dest, int port, SockAddr src) throws BpfException {
        byte[] v4 = dest.v4();
        boolean local = v4 != null ? InetAddrType.v4Loopback(v4) : InetAddrType.v6Loopback(dest.ip());
        InetSock receiver = local ? hash.lookup(InetSock.IPPROTO_UDP, dest, port) : null;
        if (receiver == null) {
            throw Errnos.fail(-Errnos.ETIMEDOUT, "no listener received the datagram to " + dest + " port " + port);
        }
        SockAddr seen = receiver.v6() && !src.isV6() ? new SockAddr(SockAddr.mapped(src.ip())) : src;
        return new Probe.Delivered(receiver.rcvSaddr.toInet(), receiver.num, seen.toInet());
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
    }
}
