package dev.cgbpf.engine.hooks;

import static dev.cgbpf.engine.hooks.CgroupSkbTestRun.ETH_HLEN;
import static dev.cgbpf.engine.hooks.CgroupSkbTestRun.ETH_P_IP;
import static dev.cgbpf.engine.hooks.CgroupSkbTestRun.ETH_P_IPV6;
import static dev.cgbpf.engine.hooks.LoopbackPacket.IPV4_HLEN;
import static dev.cgbpf.engine.hooks.LoopbackPacket.IPV6_HLEN;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Machine;

/**
 * The helpers of cgroup_skb programs that read or change the packet and its socket
 * (net/core/filter.c). The packet of a {@link CgroupSkbCtx} starts at the network header; where
 * the link-layer (mac) header is, is the hook's business, as the running kernel (6.18) shows:
 * <ul>
 * <li>egress (ip_finish_output): not set yet, so a read relative to it is -EFAULT;</li>
 * <li>ingress on loopback: the 14 bytes eth_type_trans() pulled, lo's all-zero addresses and the
 *     EtherType, right before the network header;</li>
 * <li>BPF_PROG_TEST_RUN: the frame's own Ethernet header, addresses included.</li>
 * </ul>
 * The socket of every packet the engine runs programs on is a full socket made by the engine's
 * probes, which (as the kernel backend's) run as root; a test run's socket is made by
 * sock_init_data without a struct socket, which also gives uid 0.
 */
final class SkbHelpers {
    /** enum bpf_hdr_start_off. */
    static final long BPF_HDR_START_MAC = 0;
    static final long BPF_HDR_START_NET = 1;
    /** overflowuid: what bpf_get_socket_uid answers for a packet without a full socket. */
    static final long OVERFLOW_UID = 65534;
    /** INET_ECN_MASK and INET_ECN_CE. */
    static final int ECN_MASK = 3;
    static final int ECN_CE = 3;

    private SkbHelpers() {
    }

    private static CgroupSkbCtx skb(Machine m, String helper) {
        if (!(m.ctx() instanceof CgroupSkbCtx ctx)) {
            throw new Fault(helper + " needs the __sk_buff context of a cgroup_skb program");
        }
        return ctx;
    }

    /** skb->protocol in host order, from the __sk_buff field (a little-endian load of a __be16). */
    private static int protocol(CgroupSkbCtx ctx) {
        int le = (int) ctx.load(CgroupSkbCtx.PROTOCOL, 4);
        return ((le & 0xff) << 8) | ((le >>> 8) & 0xff);
    }

    /** The mac header as the hook has it, or null where it is not set (egress). */
    private static byte[] macHeader(Machine m, CgroupSkbCtx ctx) {
        if (ctx.macHeader() != null) {
            return ctx.macHeader();
        }
        HookEnv env = m.env(HookEnv.class);
        if (env.attachType() == AttachType.CGROUP_INET_EGRESS) {
            return null;
        }
        int proto = protocol(ctx);
        byte[] h = new byte[ETH_HLEN];
        h[12] = (byte) (proto >>> 8);
        h[13] = (byte) proto;
        return h;
    }

    /**
     * long bpf_skb_load_bytes(skb, u32 offset, to, u32 len): copies packet bytes from the network
     * header on. The offset is a u32 (the upper half of the register is dropped: 2^32 + 9 reads at
     * 9); above INT_MAX, or a range past the packet's end, is -EFAULT with {@code to} zeroed.
     */
    static long loadBytes(Machine m, long skb, long offset, long to, long len, long r5) {
        CgroupSkbCtx ctx = skb(m, "bpf_skb_load_bytes");
        int n = loadSize(len, "bpf_skb_load_bytes");
        return copyOut(m, ctx.packetBytes(), offset & 0xffffffffL, to, n);
    }

    /**
     * long bpf_skb_load_bytes_relative(skb, u32 offset, to, u32 len, u32 start_header): copies
     * from the mac or network header on; an offset above 0xffff, an unknown or unset header or a
     * range past the packet's end is -EFAULT with {@code to} zeroed.
     */
    static long loadBytesRelative(Machine m, long skb, long offset, long to, long len, long startHeader) {
        CgroupSkbCtx ctx = skb(m, "bpf_skb_load_bytes_relative");
        int n = loadSize(len, "bpf_skb_load_bytes_relative");
        byte[] packet = ctx.packetBytes();
        long off = offset & 0xffffffffL;
        byte[] from = null;
        int header = (int) startHeader;
        if (off <= 0xffff && header == BPF_HDR_START_NET) {
            from = packet;
        } else if (off <= 0xffff && header == BPF_HDR_START_MAC) {
            byte[] mac = macHeader(m, ctx);
            if (mac != null) {
                from = new byte[ETH_HLEN + packet.length];
                System.arraycopy(mac, 0, from, 0, ETH_HLEN);
                System.arraycopy(packet, 0, from, ETH_HLEN, packet.length);
            }
        }
        return copyOut(m, from, off, to, n);
    }

    /** The length of a load: the verifier proved it a positive constant (ARG_CONST_SIZE). */
    private static int loadSize(long len, String helper) {
        int n = (int) len;
        if (n <= 0) {
            throw new Fault(helper + ": len " + len + " is not a positive size");
        }
        return n;
    }

    /**
     * Copies {@code n} bytes of {@code from} at {@code off} to the program's {@code to}: 0; or,
     * when there is nothing to copy from or the range is not all inside, zeroes {@code to} and
     * answers -EFAULT (the kernel's memset on failure).
     */
    private static long copyOut(Machine m, byte[] from, long off, long to, int n) {
        boolean inside = from != null && off <= Integer.MAX_VALUE && off + n <= from.length;
        for (int i = 0; i < n; i++) {
            m.store(to + i, 1, inside ? from[(int) off + i] & 0xff : 0);
        }
        return inside ? 0 : -Errnos.EFAULT;
    }

    /**
     * long bpf_skb_ecn_set_ce(skb): marks an ECN-capable IPv4 or IPv6 packet "congestion
     * experienced" (INET_ECN_set_ce), fixing the IPv4 header checksum incrementally. 1 when the
     * packet now carries CE (it may have already), 0 when it is not ECN-capable, not IP, or too
     * short for its IP header. The engine's packets are never shared clones, so always writable.
     */
    static long ecnSetCe(Machine m, long skb, long r2, long r3, long r4, long r5) {
        CgroupSkbCtx ctx = skb(m, "bpf_skb_ecn_set_ce");
        byte[] p = ctx.packetBytes();
        int proto = protocol(ctx);
        if (proto == ETH_P_IP && p.length >= IPV4_HLEN) {
            int ecn = ((p[1] & 0xff) + 1) & ECN_MASK;
            if ((ecn & 2) == 0) {
                // Not-ECT (01 after the +1) answers 0, CE (00) answers 1
                return ecn == 0 ? 1 : 0;
            }
            // ECT(1) adds 0xfffd, ECT(0) 0xfffe to the checksum, in one's complement
            int addend = 0xfffb + ecn;
            int check = ((p[10] & 0xff) << 8) | (p[11] & 0xff);
            int sum = check + addend;
            sum = (sum & 0xffff) + (sum >>> 16);
            p[10] = (byte) (sum >>> 8);
            p[11] = (byte) sum;
            p[1] |= ECN_CE;
            return 1;
        }
        if (proto == ETH_P_IPV6 && p.length >= IPV6_HLEN) {
            int dsfield = ((p[0] & 0x0f) << 4) | ((p[1] & 0xf0) >>> 4);
            if ((dsfield & ECN_MASK) == 0) {
                return 0;
            }
            p[1] |= ECN_CE << 4;
            return 1;
        }
        return 0;
    }

    /**
     * u64 bpf_skb_cgroup_id(skb): the cgroup of the packet's full socket (0 without one), the
     * socket's own, not the cgroup the program is attached to (an ancestor's program sees its
     * descendant's sockets) nor, at ingress, the task's.
     */
    static long skbCgroupId(Machine m, long skb, long r2, long r3, long r4, long r5) {
        skb(m, "bpf_skb_cgroup_id");
        HookEnv env = m.env(HookEnv.class);
        return env.sock() == null ? 0 : env.sock().cgroupOr(env.taskCgroup()).id();
    }

    /** u64 bpf_skb_ancestor_cgroup_id(skb, int level): that ancestor of the socket's cgroup, 0 if none. */
    static long skbAncestorCgroupId(Machine m, long skb, long level, long r3, long r4, long r5) {
        skb(m, "bpf_skb_ancestor_cgroup_id");
        HookEnv env = m.env(HookEnv.class);
        return env.sock() == null ? 0 : CgroupHelpers.ancestorId(env.sock().cgroupOr(env.taskCgroup()), (int) level);
    }

    /** u32 bpf_get_socket_uid(skb): the owner of the packet's full socket (root's, 0), else overflowuid. */
    static long socketUid(Machine m, long skb, long r2, long r3, long r4, long r5) {
        skb(m, "bpf_get_socket_uid");
        return m.env(HookEnv.class).sock() == null ? OVERFLOW_UID : 0;
    }
}
