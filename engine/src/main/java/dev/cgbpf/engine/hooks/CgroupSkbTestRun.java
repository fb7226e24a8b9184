package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.cgroup.CgRunCtx;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupProg;

import java.util.Arrays;

/**
 * BPF_PROG_TEST_RUN of a cgroup_skb program (net/bpf/test_run.c, bpf_prog_test_run_skb), as the
 * running kernel (6.18) answers it: the frame is an Ethernet frame on the loopback device;
 * eth_type_trans() pulls the 14-byte header, so len, data and the packet start at the network
 * header; pkt_type and protocol are what eth_type_trans() says; ifindex is 1, ingress_ifindex,
 * mark, priority, hash and the rest 0; data/data_end give the packet; and sk is a fake socket of
 * the frame's family (AF_UNSPEC unless IPv4 or IPv6) whose local address is the packet's source
 * and remote address its destination, ports 0, state TCP_CLOSE, no v4-mapped copies (observed:
 * local_ip4 = saddr, remote_ip4 = daddr, local_ip6/remote_ip6 0 for an IPv4 frame).
 *
 * <p>The return value is R0 as the program left it (an egress program's 2 and 3 included): a
 * test run has no array semantics. Each repeat runs on the same context.
 */
public final class CgroupSkbTestRun {
    public static final int ETH_HLEN = 14;
    static final int ETH_P_IP = 0x0800;
    static final int ETH_P_IPV6 = 0x86dd;
    static final int PACKET_HOST = 0;
    static final int PACKET_MULTICAST = 2;
    static final int PACKET_OTHERHOST = 3;

    /**
     * @param retval R0 of the last run; dataOut the packet as the program left it (bpf_skb_ecn_set_ce
     *               may change it) behind a zeroed Ethernet header, as the kernel hands it back
     */
    public record Result(long retval, byte[] dataOut) {
    }

    private final ProgExecutor executor;
    private final Cgroup taskCgroup;
    private final SocketLayer net;

    /** @param taskCgroup the cgroup bpf_get_current_cgroup_id reports (the runner's, outside any scenario) */
    public CgroupSkbTestRun(ProgExecutor executor, Cgroup taskCgroup) {
        this(executor, taskCgroup, null);
    }

    /** @param net the sockets bpf_sk_lookup_* finds (the engine's listeners); null: none */
    public CgroupSkbTestRun(ProgExecutor executor, Cgroup taskCgroup, SocketLayer net) {
        this.executor = executor;
        this.taskCgroup = taskCgroup;
        this.net = net;
    }

    /** Runs {@code prog} {@code repeat} times on {@code frame} (already checked for length). */
    public Result run(CgroupProg prog, byte[] frame, int repeat) {
        if (frame.length < ETH_HLEN) {
            throw new IllegalArgumentException("a frame needs at least " + ETH_HLEN + " bytes, got " + frame.length);
        }
        int etherType = ((frame[12] & 0xff) << 8) | (frame[13] & 0xff);
        byte[] network = Arrays.copyOfRange(frame, ETH_HLEN, frame.length);
        InetSock sk = fakeSocket(etherType, network);
        // sk_alloc's cgroup_sk_alloc: the socket is the calling task's
        sk.cgroup = taskCgroup;
        SkBuff skb = new SkBuff(network, true, pktType(frame), 0, 0, 0, 0, 0, 0);
        CgroupSkbCtx ctx = new CgroupSkbCtx(skb, sk);
        ctx.macHeader(Arrays.copyOf(frame, ETH_HLEN));
        ctx.protocol(Short.reverseBytes((short) protocol(frame, etherType)) & 0xffff);
        AttachType at = prog.expectedAttach() == null ? AttachType.CGROUP_INET_INGRESS : prog.expectedAttach();
        HookEnv env = new HookEnv(taskCgroup, at, sk, net);
        env.enter(CgRunCtx.testRun(prog));
        long r0 = 0;
        try {
            for (int i = 0; i < Math.max(1, repeat); i++) {
                r0 = executor.execute(prog, ctx, env);
            }
        } finally {
            env.releaseTestRunStorages();
        }
        byte[] packet = ctx.packetBytes();
        byte[] out = new byte[ETH_HLEN + packet.length];
        System.arraycopy(packet, 0, out, ETH_HLEN, packet.length);
        return new Result(r0, out);
    }

    /** The socket bpf_prog_test_run_skb makes: family and addresses from the IP header, if there is one. */
    private static InetSock fakeSocket(int etherType, byte[] network) {
        InetSock sk;
        if (etherType == ETH_P_IP && network.length >= LoopbackPacket.IPV4_HLEN) {
            sk = new InetSock(InetSock.AF_INET, 0, 0);
            sk.rcvSaddr = new SockAddr(Arrays.copyOfRange(network, 12, 16));
            sk.peer = new SockAddr(Arrays.copyOfRange(network, 16, 20));
        } else if (etherType == ETH_P_IPV6 && network.length >= LoopbackPacket.IPV6_HLEN) {
            sk = new InetSock(InetSock.AF_INET6, 0, 0);
            sk.rcvSaddr = new SockAddr(Arrays.copyOfRange(network, 8, 24));
            sk.peer = new SockAddr(Arrays.copyOfRange(network, 24, 40));
        } else {
            sk = new InetSock(0, 0, 0);
        }
        return sk;
    }

    /**
     * eth_type_trans() on the loopback device, whose address is all zeros: a zero destination is
     * ours, a multicast bit (ff:ff:ff:ff:ff:ff included) multicast, anything else another host's.
     */
    static int pktType(byte[] frame) {
        boolean zero = true;
        for (int i = 0; i < 6; i++) {
            zero &= frame[i] == 0;
        }
        if (zero) {
            return PACKET_HOST;
        }
        return (frame[0] & 1) != 0 ? PACKET_MULTICAST : PACKET_OTHERHOST;
    }

    /** skb->protocol in host order: an EtherType (>= 0x600), else 802.3 raw (0xffff sap: ETH_P_802_3) or 802.2. */
    static int protocol(byte[] frame, int etherType) {
        if (etherType >= 0x600) {
            return etherType;
        }
        boolean rawSap = frame.length >= ETH_HLEN + 2 && frame[14] == (byte) 0xff && frame[15] == (byte) 0xff;
        return rawSap ? 0x0001 : 0x0004;
    }
}
