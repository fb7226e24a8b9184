package dev.cgbpf.hook.compile;

import static dev.cgbpf.engine.isa.Reg.R0;
import static dev.cgbpf.engine.isa.Reg.R1;
import static dev.cgbpf.engine.isa.Reg.R2;
import static dev.cgbpf.engine.isa.Reg.R3;
import static dev.cgbpf.engine.isa.Reg.R6;
import static dev.cgbpf.engine.isa.Reg.R10;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfSockAddrCtx;
import dev.cgbpf.engine.hooks.BpfSockCtx;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.PortRange;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a container's bind addresses into cgroup_sock_addr programs:
 * <ul>
 * <li>{@code cgbpf_bind4}/{@code cgbpf_bind6}: a bind to a port outside the allowed ranges is
 *     refused (port 0, "any port", always passes); a bind to one of the container's addresses
 *     passes; any other (the wildcard, loopback, another host address) is rewritten to the
 *     first container address, or refused in deny mode. An IPv6 socket of a container with only
 *     IPv4 addresses gets the v4-mapped form ::ffff:A.B.C.D, which a dual-stack socket accepts;
 *     an IPv4 socket of a container with only IPv6 addresses is refused.</li>
 * <li>{@code cgbpf_conn4}/{@code cgbpf_conn6}: before connect, bpf_bind() the local end to the
 *     container address (port 0; the kernel picks the port at connect). For a loopback container
 *     address only connects to loopback destinations are bound (127.0.0.0/8, ::1, or their
 *     v4-mapped form), since such a source cannot reach anything else. A socket that is already
 *     bound makes bpf_bind fail; the result is ignored and the connect proceeds.</li>
 * <li>{@code cgbpf_send4}/{@code cgbpf_send6}: for an unconnected UDP send without a source
 *     address, set msg_src_ip4/msg_src_ip6 to the container address (same loopback rule). An
 *     IPv6 socket sending to a v4-mapped destination goes through the kernel's IPv4 path and so
 *     through cgbpf_send4.</li>
 * </ul>
 * Refusals return 0 (the syscall fails with EPERM) after counting in the denial map.
 */
public final class SockAddrCompiler {
    private SockAddrCompiler() {
    }

    /** Every sock_addr program the network policy needs (none without addresses and ports). */
    public static List<CompiledProgram> compile(NetworkPolicy n, DenialCounters counters) {
        List<CompiledProgram> out = new ArrayList<>();
        List<Inet4Address> v4 = n.bind().v4();
        List<Inet6Address> v6 = n.bind().v6();
        if (n.bind().isEmpty() && n.bindPorts().isEmpty()) {
            return out;
        }
        out.add(new CompiledProgram("cgbpf_bind4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                bind4(n, counters).build()));
        out.add(new CompiledProgram("cgbpf_bind6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND,
                bind6(n, counters).build()));
        if (!v4.isEmpty()) {
            out.add(new CompiledProgram("cgbpf_conn4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                    connect4(v4.get(0)).build()));
            out.add(new CompiledProgram("cgbpf_send4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                    sendmsg4(v4.get(0)).build()));
        }
        if (!n.bind().isEmpty()) {
            out.add(new CompiledProgram("cgbpf_conn6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT,
                    connect6(v4.isEmpty() ? null : v4.get(0), v6.isEmpty() ? null : v6.get(0)).build()));
        }
        if (!v6.isEmpty()) {
            out.add(new CompiledProgram("cgbpf_send6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG,
                    sendmsg6(v6.get(0)).build()));
        }
        return out;
    }

    /** Port check: falls through when user_port is 0 or inside a range, refuses otherwise. */
    private static void ports(Asm a, List<PortRange> ranges, DenialCounters counters) {
        if (ranges.isEmpty()) {
            return;
        }
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_PORT).be(R2, 16).jeq(R2, 0, "port_ok");
        int i = 0;
        for (PortRange r : ranges) {
            String next = "range" + i++;
            a.jlt(R2, r.first(), next).jle(R2, r.last(), "port_ok").label(next);
        }
        counters.emitDeny(a, DenialReason.BIND_PORT, "port_counted");
        a.label("port_ok");
    }

    static Asm bind4(NetworkPolicy n, DenialCounters counters) {
        Asm a = new Asm().mov(R6, R1);
        ports(a, n.bindPorts(), counters);
        List<Inet4Address> v4 = n.bind().v4();
        if (n.bind().isEmpty()) {
            return a.movImm(R0, 1).exit();
        }
        if (v4.isEmpty()) {
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, "addr_counted");
            return a;
        }
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4);
        for (Inet4Address own : v4) {
            a.jmp32(Opcodes.JEQ, R2, SockAddr.word(own), "allow");
        }
        if (n.bindMode() == BindMode.DENY) {
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, "addr_counted");
        } else {
            a.movImm32(R2, SockAddr.word(v4.get(0))).stxW(R6, BpfSockAddrCtx.USER_IP4, R2).ja("allow");
        }
        return a.label("allow").movImm(R0, 1).exit();
    }

    static Asm bind6(NetworkPolicy n, DenialCounters counters) {
        Asm a = new Asm().mov(R6, R1);
        ports(a, n.bindPorts(), counters);
        if (n.bind().isEmpty()) {
            return a.movImm(R0, 1).exit();
        }
        List<int[]> own = new ArrayList<>();
        n.bind().v6().forEach(x -> own.add(SockAddr.words(x)));
        n.bind().v4().forEach(x -> own.add(SockAddr.v4Mapped(x)));
        int k = 0;
        for (int[] w : own) {
            String next = "other" + k++;
            for (int j = 0; j < 4; j++) {
                a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4 * j).jmp32(Opcodes.JNE, R2, w[j], next);
            }
            a.ja("allow").label(next);
        }
        if (n.bindMode() == BindMode.DENY) {
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, "addr_counted");
        } else {
            int[] target = own.get(0);
            for (int j = 0; j < 4; j++) {
                a.movImm32(R2, target[j]).stxW(R6, BpfSockAddrCtx.USER_IP6 + 4 * j, R2);
            }
            a.ja("allow");
        }
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** Jumps to {@code skip} unless the IPv4 word in {@code reg} is in 127.0.0.0/8. Clobbers reg. */
    private static void unlessLoopback4(Asm a, Reg reg, String skip) {
        a.alu32(Opcodes.AND, reg, 0xff).jmp32(Opcodes.JNE, reg, SockAddr.LOOPBACK_NET, skip);
    }

    static Asm connect4(Inet4Address own) {
        Asm a = new Asm().mov(R6, R1);
        if (own.isLoopbackAddress()) {
            a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4);
            unlessLoopback4(a, R2, "allow");
        }
        // struct sockaddr_in at r10-16: family, port 0, address, zero padding
        a.movImm(R2, 0).stxDW(R10, -16, R2).stxDW(R10, -8, R2)
                .stH(R10, -16, BpfSockCtx.AF_INET)
                .stW(R10, -12, SockAddr.word(own));
        bindCall(a, -16, SockAddr.SOCKADDR_IN_SIZE);
        return a.label("allow").movImm(R0, 1).exit();
    }

    private static void bindCall(Asm a, int stackOff, int size) {
        a.mov(R1, R6).mov(R2, R10).add(R2, stackOff).movImm(R3, size).call("bpf_bind");
    }

    /**
     * @param own4 the container's IPv4 address (for v4-mapped destinations), or null
     * @param own6 the container's IPv6 address (for IPv6 destinations), or null
     */
    static Asm connect6(Inet4Address own4, Inet6Address own6) {
        Asm a = new Asm().mov(R6, R1);
        // v4-mapped destination ::ffff:a.b.c.d: words 0, 0, 0xffff0000 (bytes 00 00 ff ff)
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6).jmp32(Opcodes.JNE, R2, 0, "native6")
                .ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4).jmp32(Opcodes.JNE, R2, 0, "native6")
                .ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 8).jmp32(Opcodes.JNE, R2, 0xffff0000, "native6");
        if (own4 == null) {
            a.ja("allow");
        } else {
            if (own4.isLoopbackAddress()) {
                a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 12);
                unlessLoopback4(a, R2, "allow");
            }
            sockaddrIn6(a, SockAddr.v4Mapped(own4));
            a.ja("allow");
        }
        a.label("native6");
        if (own6 != null) {
            if (own6.isLoopbackAddress()) {
                int[] one = SockAddr.words(own6);
                for (int j = 0; j < 4; j++) {
                    a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4 * j).jmp32(Opcodes.JNE, R2, one[j], "allow");
                }
            }
            sockaddrIn6(a, SockAddr.words(own6));
        }
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** struct sockaddr_in6 at r10-32 (family, port 0, flowinfo 0, address, scope 0), then bpf_bind. */
    private static void sockaddrIn6(Asm a, int[] addr) {
        a.movImm(R2, 0).stxDW(R10, -32, R2).stxDW(R10, -24, R2).stxDW(R10, -16, R2).stxDW(R10, -8, R2)
                .stH(R10, -32, BpfSockCtx.AF_INET6);
        for (int j = 0; j < 4; j++) {
            a.stW(R10, -24 + 4 * j, addr[j]);
        }
        bindCall(a, -32, SockAddr.SOCKADDR_IN6_SIZE);
    }

    static Asm sendmsg4(Inet4Address own) {
        Asm a = new Asm().mov(R6, R1);
        if (own.isLoopbackAddress()) {
            a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4);
            unlessLoopback4(a, R2, "allow");
        }
        a.ldxW(R2, R6, BpfSockAddrCtx.MSG_SRC_IP4).jmp32(Opcodes.JNE, R2, 0, "allow")
                .movImm32(R2, SockAddr.word(own)).stxW(R6, BpfSockAddrCtx.MSG_SRC_IP4, R2);
        return a.label("allow").movImm(R0, 1).exit();
    }

    static Asm sendmsg6(Inet6Address own) {
        Asm a = new Asm().mov(R6, R1);
        int[] w = SockAddr.words(own);
        if (own.isLoopbackAddress()) {
            for (int j = 0; j < 4; j++) {
                a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4 * j).jmp32(Opcodes.JNE, R2, w[j], "allow");
            }
        }
        for (int j = 0; j < 4; j++) {
            a.ldxW(R2, R6, BpfSockAddrCtx.MSG_SRC_IP6 + 4 * j).jmp32(Opcodes.JNE, R2, 0, "allow");
        }
        for (int j = 0; j < 4; j++) {
            a.movImm32(R2, w[j]).stxW(R6, BpfSockAddrCtx.MSG_SRC_IP6 + 4 * j, R2);
        }
        return a.label("allow").movImm(R0, 1).exit();
    }
}
