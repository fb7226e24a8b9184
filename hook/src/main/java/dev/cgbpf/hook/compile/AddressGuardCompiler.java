package dev.cgbpf.hook.compile;

import static dev.cgbpf.engine.isa.Reg.R0;
import static dev.cgbpf.engine.isa.Reg.R1;
import static dev.cgbpf.engine.isa.Reg.R2;
import static dev.cgbpf.engine.isa.Reg.R3;
import static dev.cgbpf.engine.isa.Reg.R4;
import static dev.cgbpf.engine.isa.Reg.R6;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.CgroupSkbCtx;
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.hook.policy.BindAddresses;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;

/**
 * The packet guards of a container with bind addresses: two cgroup_skb programs that keep its
 * sockets from receiving on, or sending from, any address that is not the container's, whatever
 * path the socket took to its address. The sock_addr programs ({@link SockAddrCompiler}) steer
 * binds, connects and sends; these catch what never passes a sock_addr hook, measured on 6.18
 * ({@code AddressGuardKernelTest}): listen() on an unbound TCP socket autobinds to 0.0.0.0:N or
 * [::]:N without the bind hook, an unbound UDP sendto leaves the socket on 0.0.0.0:N, a raw
 * socket's sendto has no sock_addr hook at all.
 * <ul>
 * <li>{@code cgbpf_in} (cgroup_inet_ingress): a packet to one of the container's addresses
 *     passes; a packet to any other loopback destination (127.0.0.0/8, ::1) is dropped; a packet
 *     to a non-loopback destination passes only when the receiving socket has a remote port
 *     ({@code __sk_buff.remote_port}, the socket's skc_dport: a TCP socket that connected or was
 *     accepted, a connected UDP socket), that is a reply to a connection the container opened;
 *     for a listener or an unconnected socket it is dropped. Measured with a dump program
 *     ({@code AddressGuardKernelTest#ingressSeesTheListenerForASyn}): the SYN and the
 *     handshake's last ACK run the ingress programs with skb->sk the listener (state 10,
 *     TCP_LISTEN, remote_port 0); the connection's data segments run them with the accepted
 *     socket (remote_port the peer's port). An unconnected UDP socket's skc_dport is 0.</li>
 * <li>{@code cgbpf_out} (cgroup_inet_egress): a packet from one of the container's addresses
 *     passes; from any other source it is dropped when the destination is loopback, and, when
 *     the family's first (rewrite target) address is not loopback, whatever the destination. A
 *     loopback container address leaves other sources to non-loopback destinations alone, as
 *     the connect programs do: a loopback source cannot reach them.</li>
 * </ul>
 * What the task sees of a drop, measured: a host's connect to a dropped listener, and a
 * container's connect whose SYN or SYN-ACK is dropped, time out (the SYN is retransmitted); a
 * UDP or raw send dropped at egress fails with EPERM.
 *
 * <p>A family without a container address has all its packets dropped both ways: with only an IPv4
 * address no native IPv6 traffic (an IPv6 socket talking to a v4-mapped peer sends and receives
 * IPv4 packets, which the IPv4 rules judge), and the other way round.
 *
 * <p>The family is {@code skb->protocol} (ETH_P_IP or ETH_P_IPV6; ip_output and ip6_output set it
 * before the egress hook, the receive path before ingress); anything else is dropped. The
 * addresses are read from the packet with direct packet access (data..data_end start at the
 * network header in a cgroup_skb program); the IPv4 and IPv6 headers are in the linear part on
 * both hooks (ip_rcv and ipv6_rcv pull them, the output path builds them there), and a packet
 * whose linear part is shorter than the fixed header is dropped rather than passed unread (no
 * test can show one: BPF_PROG_TEST_RUN refuses such a frame with EINVAL).
 * Every drop is counted as {@link DenialReason#ADDRESS_TRAFFIC}.
 */
public final class AddressGuardCompiler {
    /** skb->protocol as a 4-byte context load gives it: the __be16 EtherType read little-endian. */
    static final int ETH_P_IP_BE = Short.toUnsignedInt(Short.reverseBytes((short) 0x0800));
    static final int ETH_P_IPV6_BE = Short.toUnsignedInt(Short.reverseBytes((short) 0x86dd));
    static final int IPV4_HLEN = 20;
    static final int IPV6_HLEN = 40;
    static final int IPV4_SADDR = 12;
    static final int IPV4_DADDR = 16;
    static final int IPV6_SADDR = 8;
    static final int IPV6_DADDR = 24;
    /** ::1 as four words. */
    static final int[] LOOPBACK6 = SockAddr.words(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

    private AddressGuardCompiler() {
    }

    /** Both guards, or none when the policy gives no bind address. */
    public static List<CompiledProgram> compile(BindAddresses own, DenialCounters counters) {
        List<CompiledProgram> out = new ArrayList<>();
        if (own.isEmpty()) {
            return out;
        }
        out.add(new CompiledProgram("cgbpf_in", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                guard(own, true, counters).build()));
        out.add(new CompiledProgram("cgbpf_out", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS,
                guard(own, false, counters).build()));
        return out;
    }

    /**
     * One guard. Ingress judges the destination address (the address the socket receives on),
     * egress the source (the address it sends from).
     */
    static Asm guard(BindAddresses own, boolean ingress, DenialCounters counters) {
        // r6 = skb;   (struct __sk_buff *; r1 is clobbered by the counter's helper call)
        Asm a = new Asm().mov(R6, R1);
        // switch (skb->protocol) { case htons(ETH_P_IP): goto ip4; case htons(ETH_P_IPV6): goto ip6; default: goto drop; }
        a.ldxW(R2, R6, CgroupSkbCtx.PROTOCOL)
                .jmp32(JumpOp.JEQ, R2, ETH_P_IP_BE, "ip4")
                .jmp32(JumpOp.JEQ, R2, ETH_P_IPV6_BE, "ip6")
                .ja("drop");

        // ip4:
        a.label("ip4");
        List<Inet4Address> v4 = own.v4();
        if (v4.isEmpty()) {
            a.ja("drop"); // no IPv4 address: no IPv4 traffic
        } else {
            // struct iphdr *iph = r2 (header() checks that its fixed 20 bytes are there)
            header(a, IPV4_HLEN);
            // __u32 addr = ingress ? iph->daddr : iph->saddr;   (in r4)
            a.ldxW(R4, R2, ingress ? IPV4_DADDR : IPV4_SADDR);
            for (Inet4Address x : v4) {
                // if (addr == own) goto pass;
                a.jmp32(JumpOp.JEQ, R4, SockAddr.word(x), "pass");
            }
            // if ((iph->daddr & 0xff) == 127) goto drop;   (first byte in network order: 127.0.0.0/8)
            //   (r4 = iph->daddr, loaded again on egress, where r4 held the source)
            if (!ingress) {
                a.ldxW(R4, R2, IPV4_DADDR);
            }
            a.alu32(AluOp.AND, R4, 0xff).jmp32(JumpOp.JEQ, R4, SockAddr.LOOPBACK_NET, "drop");
            otherNonLoopback(a, ingress, v4.get(0).isLoopbackAddress());
        }

        // ip6:
        a.label("ip6");
        List<Inet6Address> v6 = own.v6();
        if (v6.isEmpty()) {
            a.ja("drop"); // no IPv6 address: no native IPv6 traffic
        } else {
            // struct ipv6hdr *ip6h = r2 (header() checks that its fixed 40 bytes are there)
            header(a, IPV6_HLEN);
            int at = ingress ? IPV6_DADDR : IPV6_SADDR;
            int k = 0;
            for (Inet6Address x : v6) {
                // if (!memcmp(&ip6h->daddr / &ip6h->saddr, &own, 16)) goto pass;
                //   word by word: r4 = addr[j]; if (r4 != own[j]) goto not_own6_K; ... goto pass; not_own6_K:
                String next = "not_own6_" + k++;
                int[] w = SockAddr.words(x);
                for (int j = 0; j < 4; j++) {
                    a.ldxW(R4, R2, at + 4 * j).jmp32(JumpOp.JNE, R4, w[j], next);
                }
                a.ja("pass").label(next);
            }
            // if (ipv6_addr_loopback(&ip6h->daddr)) goto drop;
            //   word by word: r4 = ip6h->daddr[j]; if (r4 != ::1[j]) goto not_loopback6; ... goto drop; not_loopback6:
            for (int j = 0; j < 4; j++) {
                a.ldxW(R4, R2, IPV6_DADDR + 4 * j).jmp32(JumpOp.JNE, R4, LOOPBACK6[j], "not_loopback6");
            }
            a.ja("drop").label("not_loopback6");
            otherNonLoopback(a, ingress, v6.get(0).isLoopbackAddress());
        }

        // drop: count an ADDRESS_TRAFFIC denial; return 0;   (0 drops the packet)
        a.label("drop");
        counters.emitDeny(a, DenialReason.ADDRESS_TRAFFIC, "counted");
        // pass: return 1;
        return a.label("pass").movImm(R0, 1).exit();
    }

    /**
     * r2 = skb->data; if (skb->data + hlen > skb->data_end) goto drop; (the header is readable
     * through r2 afterwards).
     */
    private static void header(Asm a, int hlen) {
        // r2 = skb->data; r3 = skb->data_end; r4 = r2 + hlen; if (r4 > r3) goto drop;
        a.ldxW(R2, R6, CgroupSkbCtx.DATA)
                .ldxW(R3, R6, CgroupSkbCtx.DATA_END)
                .mov(R4, R2).add(R4, hlen)
                .jgt(R4, R3, "drop");
    }

    /** The decision for an address that is not the container's, towards a non-loopback destination. */
    private static void otherNonLoopback(Asm a, boolean ingress, boolean ownIsLoopback) {
        if (ingress) {
            // if (skb->remote_port == 0) goto drop; goto pass;   (a listener or an unconnected socket)
            a.ldxW(R2, R6, CgroupSkbCtx.REMOTE_PORT).jeq(R2, 0, "drop").ja("pass");
        } else if (ownIsLoopback) {
            a.ja("pass"); // a loopback container address cannot reach it; the connect programs leave it unbound
        } else {
            a.ja("drop");
        }
    }
}
