package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.cgroup.BpfProgArray;
import dev.cgbpf.engine.cgroup.Cgroup;

import java.util.Arrays;

/**
 * The cgroup_skb hooks (__cgroup_bpf_run_filter_skb): an IP packet that a socket of the cgroup
 * sends (egress) or receives (ingress) runs the effective array. The socket layer passes its
 * probes' packets here ({@link TcpConnection}, UDP sendmsg); at library level the socket is made
 * up from the packet's addresses and ports (TCP or UDP), local side first as the socket sees it.
 *
 * <p>Verdicts as the kernel computes them: ingress passes when the array's retval is 0. Egress
 * takes R0 bit 0 as the verdict and bit 1, OR-ed over the array, as congestion notification
 * (BPF_RET_SET_CN): passed with CN is NET_XMIT_CN, refused with CN NET_XMIT_DROP; a positive
 * retval (bpf_set_retval) is turned into -EFAULT.
 */
public final class SkbHooks {
    /** What a packet's trip through the hook came to. */
    public record Verdict(boolean pass, boolean congestion, int retval) {
        /**
         * What a UDP sendmsg(2) returns for a packet this verdict dropped: NET_XMIT_DROP (refused
         * with congestion) becomes -ENOBUFS in ip_send_skb, which udp_send_skb swallows (0: the
         * send "succeeds", the datagram is gone); otherwise the array's -errno (-EPERM).
         */
        int sendError() {
            return congestion ? 0 : retval;
        }
    }

    private final HookRunner runner;
    /** The socket layer the packets belong to (bpf_sk_lookup_* looks there); null at library level. */
    private final SocketLayer net;

    public SkbHooks(HookRunner runner) {
        this(runner, null);
    }

    SkbHooks(HookRunner runner, SocketLayer net) {
        this.runner = runner;
        this.net = net;
    }

    /** An IP packet for a socket of the cgroup, the socket made up from the packet (library level). */
    public Verdict ingress(Cgroup cgroup, byte[] ipPacket) {
        InetSock sk = socketOf(ipPacket, true);
        sk.cgroup = cgroup;
        return ingress(cgroup, sk, SkBuff.ingress(ipPacket, 0, 0));
    }

    /** An IP packet from a socket of the cgroup, the socket made up from the packet (library level). */
    public Verdict egress(Cgroup cgroup, byte[] ipPacket) {
        InetSock sk = socketOf(ipPacket, false);
        sk.cgroup = cgroup;
        return egress(cgroup, sk, SkBuff.egress(ipPacket, sk, 0, false));
    }

    /** sk_filter_trim_cap's cgroup hook: the packet reaches {@code sk} only when the array's retval is 0. */
    Verdict ingress(Cgroup cgroup, InetSock sk, SkBuff skb) {
        AttachType at = AttachType.CGROUP_INET_INGRESS;
        BpfProgArray.RunResult r = runner.run(cgroup, at, new CgroupSkbCtx(skb, sk), new HookEnv(cgroup, at, sk, net), false);
        int ret = fixup(r.retval());
        return new Verdict(ret == 0, false, ret);
    }

    /**
     * ip_finish_output / ip6_finish_output's cgroup hook. {@link Verdict#pass()} is whether the
     * packet goes on (NET_XMIT_SUCCESS or NET_XMIT_CN); a refused one is dropped, and what the
     * sender hears depends on the congestion bit: see {@link Verdict#sendError()}.
     */
    Verdict egress(Cgroup cgroup, InetSock sk, SkBuff skb) {
        AttachType at = AttachType.CGROUP_INET_EGRESS;
        BpfProgArray.RunResult r = runner.run(cgroup, at, new CgroupSkbCtx(skb, sk), new HookEnv(cgroup, at, sk, net), true);
        int ret = fixup(r.retval());
        return new Verdict(ret == 0, (r.retFlags() & 1) != 0, ret);
    }

    private static int fixup(int ret) {
        return ret > 0 || ret < -4095 ? -14 /* EFAULT */ : ret;
    }

    /** The connected socket a packet belongs to; the packet must carry an IPv4 or IPv6 header. */
    static InetSock socketOf(byte[] p, boolean ingress) {
        if (p.length < 20) {
            throw new IllegalArgumentException("an IP packet has at least 20 bytes, got " + p.length);
        }
        int version = (p[0] & 0xf0) >>> 4;
        boolean v6 = version == 6;
        if (!v6 && version != 4) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 packet (version " + version + ")");
        }
        int proto;
        int l4;
        byte[] src;
        byte[] dst;
        if (v6) {
            if (p.length < 40) {
                throw new IllegalArgumentException("an IPv6 packet has at least 40 bytes, got " + p.length);
            }
            proto = p[6] & 0xff;
            l4 = 40;
            src = Arrays.copyOfRange(p, 8, 24);
            dst = Arrays.copyOfRange(p, 24, 40);
        } else {
            proto = p[9] & 0xff;
            l4 = (p[0] & 0x0f) * 4;
            src = Arrays.copyOfRange(p, 12, 16);
            dst = Arrays.copyOfRange(p, 16, 20);
        }
        InetSock sk = new InetSock(v6, proto == InetSock.IPPROTO_TCP ? InetSock.SOCK_STREAM : InetSock.SOCK_DGRAM, proto);
        int sport = 0;
        int dport = 0;
        if ((proto == InetSock.IPPROTO_TCP || proto == InetSock.IPPROTO_UDP) && p.length >= l4 + 4) {
            sport = ((p[l4] & 0xff) << 8) | (p[l4 + 1] & 0xff);
            dport = ((p[l4 + 2] & 0xff) << 8) | (p[l4 + 3] & 0xff);
        }
        sk.rcvSaddr = new SockAddr(ingress ? dst : src);
        sk.num = ingress ? dport : sport;
        sk.peer = new SockAddr(ingress ? src : dst);
        sk.dport = ingress ? sport : dport;
        sk.state = proto == InetSock.IPPROTO_TCP ? InetSock.TCP_ESTABLISHED : InetSock.TCP_CLOSE;
        return sk;
    }
}
