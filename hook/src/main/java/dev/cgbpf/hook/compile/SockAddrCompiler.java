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
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.JumpOp;
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
 *     v4-mapped form, and 0.0.0.0, which the kernel turns into a connect to the source address),
 *     since such a source cannot reach anything else. A socket that is already bound makes
 *     bpf_bind fail; the result is ignored and the connect proceeds. A destination of a family
 *     the container has no address of is refused: with only IPv4 addresses a native IPv6
 *     destination, with only IPv6 addresses an IPv4 or v4-mapped one.</li>
 * <li>{@code cgbpf_send4}/{@code cgbpf_send6}: the source of a UDP send that takes the
 *     unconnected path (a destination address given, or control messages such as IP_PKTINFO).
 *     No source yet (msg_src 0: unbound or wildcard-bound socket): set to the container address.
 *     A preset source (the bound address, IP_PKTINFO's ipi_spec_dst, IPV6_PKTINFO's ipi6_addr)
 *     that is one of the container's addresses passes; any other is rewritten to the container
 *     address, or refused in deny mode. The loopback rule of the connect programs applies to the
 *     destination; a send without a destination address (a connected socket's sendmsg with
 *     control messages: the hook sees 0.0.0.0 or ::) keeps a non-loopback source, which only a
 *     socket connected to a non-loopback peer has, and has any loopback source checked. An IPv6
 *     socket sending to a v4-mapped destination goes through the kernel's IPv4 path and so
 *     through cgbpf_send4; without an address of the family every send is refused.</li>
 * </ul>
 * {@link AddressGuardCompiler}'s packet guards catch what these hooks never see (listen()'s
 * autobind, raw sockets).
 * Refusals return 0 (the syscall fails with EPERM) after counting in the denial map and, with
 * events, reporting the denial ({@link EventSpec}; the rule index is one of {@link DenialRules}).
 */
public final class SockAddrCompiler {
    /** An event's address: what each attach type may read and judges (user_ip for bind and connect, msg_src for a send). */
    private static final EventSpec.Fields BIND4 = new EventSpec.SockAddrFields(BpfSockAddrCtx.USER_IP4, 1);
    private static final EventSpec.Fields BIND6 = new EventSpec.SockAddrFields(BpfSockAddrCtx.USER_IP6, 4);
    private static final EventSpec.Fields SEND4 = new EventSpec.SockAddrFields(BpfSockAddrCtx.MSG_SRC_IP4, 1);
    private static final EventSpec.Fields SEND6 = new EventSpec.SockAddrFields(BpfSockAddrCtx.MSG_SRC_IP6, 4);

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
        if (n.bind().isEmpty()) {
            return out;
        }
        // both families always: a family without an address is refused, not left open
        out.add(new CompiledProgram("cgbpf_conn4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                connect4(v4, counters).build()));
        out.add(new CompiledProgram("cgbpf_conn6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT,
                connect6(v4.isEmpty() ? null : v4.get(0), v6.isEmpty() ? null : v6.get(0), counters).build()));
        out.add(new CompiledProgram("cgbpf_send4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                sendmsg4(v4, n.bindMode(), counters).build()));
        out.add(new CompiledProgram("cgbpf_send6", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG,
                sendmsg6(v6, n.bindMode(), counters).build()));
        return out;
    }

    /** Port check: falls through when user_port is 0 or inside a range, refuses otherwise. */
    private static void ports(Asm a, List<PortRange> ranges, DenialCounters counters, EventSpec.Fields fields) {
        if (ranges.isEmpty()) {
            return;
        }
        // u64 r2 = bpf_ntohs(ctx->user_port);   (be16: the network-order port to host order)
        // if (r2 == 0) goto port_ok;             (port 0: the kernel picks one)
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_PORT).be(R2, 16).jeq(R2, 0, "port_ok");
        int i = 0;
        for (PortRange r : ranges) {
            // if (r2 < FIRST) goto rangeN; if (r2 <= LAST) goto port_ok; rangeN:
            String next = "range" + i++;
            a.jlt(R2, r.first(), next).jle(R2, r.last(), "port_ok").label(next);
        }
        // in no range: count a BIND_PORT denial; return 0;
        counters.emitDeny(a, DenialReason.BIND_PORT, new EventSpec(EventKind.BIND_PORT, DenialRules.PORT_RANGES, fields), "port_counted");
        // port_ok:
        a.label("port_ok");
    }

    static Asm bind4(NetworkPolicy n, DenialCounters counters) {
        // r6 = ctx;   (struct bpf_sock_addr *; r1 is clobbered by the calls)
        Asm a = new Asm().mov(R6, R1);
        ports(a, n.bindPorts(), counters, BIND4);
        List<Inet4Address> v4 = n.bind().v4();
        if (n.bind().isEmpty()) {
            // return 1;   (ports only)
            return a.movImm(R0, 1).exit();
        }
        if (v4.isEmpty()) {
            // no IPv4 address: count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.BIND_ADDRESS, DenialRules.NO_ADDRESS_OF_FAMILY, BIND4), "addr_counted");
            return a;
        }
        // u32 r2 = ctx->user_ip4;
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4);
        for (Inet4Address own : v4) {
            // if (r2 == OWN) goto allow;   (each container address)
            a.jmp32(JumpOp.JEQ, R2, SockAddr.word(own), "allow");
        }
        if (n.bindMode() == BindMode.DENY) {
            // count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.BIND_ADDRESS, DenialRules.NOT_OWN_ADDRESS, BIND4), "addr_counted");
        } else {
            // ctx->user_ip4 = OWN0; goto allow;   (rewritten to the first address)
            a.movImm32(R2, SockAddr.word(v4.get(0))).stxW(R6, BpfSockAddrCtx.USER_IP4, R2).ja("allow");
        }
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    static Asm bind6(NetworkPolicy n, DenialCounters counters) {
        // r6 = ctx;
        Asm a = new Asm().mov(R6, R1);
        ports(a, n.bindPorts(), counters, BIND6);
        if (n.bind().isEmpty()) {
            // return 1;   (ports only)
            return a.movImm(R0, 1).exit();
        }
        List<int[]> own = new ArrayList<>();
        n.bind().v6().forEach(x -> own.add(SockAddr.words(x)));
        n.bind().v4().forEach(x -> own.add(SockAddr.v4Mapped(x)));
        int k = 0;
        for (int[] w : own) {
            // if (!memcmp(ctx->user_ip6, OWN, 16)) goto allow;   (each container address, IPv6 then v4-mapped)
            //   word by word: r2 = ctx->user_ip6[j]; if (r2 != OWN[j]) goto otherK; ... goto allow; otherK:
            String next = "other" + k++;
            for (int j = 0; j < 4; j++) {
                a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4 * j).jmp32(JumpOp.JNE, R2, w[j], next);
            }
            a.ja("allow").label(next);
        }
        if (n.bindMode() == BindMode.DENY) {
            // count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.BIND_ADDRESS, DenialRules.NOT_OWN_ADDRESS, BIND6), "addr_counted");
        } else {
            // memcpy(ctx->user_ip6, OWN0, 16); goto allow;   (r2 = OWN0[j]; ctx->user_ip6[j] = r2; for each word)
            int[] target = own.get(0);
            for (int j = 0; j < 4; j++) {
                a.movImm32(R2, target[j]).stxW(R6, BpfSockAddrCtx.USER_IP6 + 4 * j, R2);
            }
            a.ja("allow");
        }
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** Jumps to {@code skip} unless the IPv4 word in {@code reg} is in 127.0.0.0/8. Clobbers reg. */
    private static void unlessLoopback4(Asm a, Reg reg, String skip) {
        // if ((addr & 0xff) != 127) goto skip;   (the first byte in network order)
        a.alu32(AluOp.AND, reg, 0xff).jmp32(JumpOp.JNE, reg, SockAddr.LOOPBACK_NET, skip);
    }

    /** Jumps to {@code differ} unless the 16 bytes at ctx+{@code off} are {@code w}. Clobbers r2. */
    private static void unlessEqual6(Asm a, int off, int[] w, String differ) {
        // if (memcmp((void *)ctx + off, W, 16)) goto differ;
        //   word by word: r2 = *(u32 *)((void *)ctx + off + 4 * j); if (r2 != W[j]) goto differ;
        for (int j = 0; j < 4; j++) {
            a.ldxW(R2, R6, off + 4 * j).jmp32(JumpOp.JNE, R2, w[j], differ);
        }
    }

    static Asm connect4(List<Inet4Address> v4, DenialCounters counters) {
        // r6 = ctx;
        Asm a = new Asm().mov(R6, R1);
        if (v4.isEmpty()) {
            // no IPv4 address: return 0 (EPERM), counted
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.CONNECT, DenialRules.NO_ADDRESS_OF_FAMILY, BIND4), "counted");
            return a;
        }
        Inet4Address own = v4.get(0);
        if (own.isLoopbackAddress()) {
            // if (ctx->user_ip4 == 0) goto bind;   (0.0.0.0: the kernel connects to the source address)
            // if ((ctx->user_ip4 & 0xff) != 127) goto allow;
            a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4).jmp32(JumpOp.JEQ, R2, 0, "bind");
            unlessLoopback4(a, R2, "allow");
        }
        // bind: struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = own }; bpf_bind(ctx, &sin, sizeof(sin));
        //   (sin at r10-16: the 16 bytes zeroed, then family at -16 and the address at -12)
        a.label("bind").movImm(R2, 0).stxDW(R10, -16, R2).stxDW(R10, -8, R2)
                .stH(R10, -16, BpfSockCtx.AF_INET)
                .stW(R10, -12, SockAddr.word(own));
        bindCall(a, -16, SockAddr.SOCKADDR_IN_SIZE);
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    private static void bindCall(Asm a, int stackOff, int size) {
        // bpf_bind(ctx, r10 + stackOff, size);   (r1 = r6, r2 = r10 + stackOff, r3 = size; the result is ignored)
        a.mov(R1, R6).mov(R2, R10).add(R2, stackOff).movImm(R3, size).call("bpf_bind");
    }

    /**
     * @param own4 the container's IPv4 address (for v4-mapped destinations), or null: refused
     * @param own6 the container's IPv6 address (for IPv6 destinations), or null: refused
     */
    static Asm connect6(Inet4Address own4, Inet6Address own6, DenialCounters counters) {
        // r6 = ctx;
        Asm a = new Asm().mov(R6, R1);
        // if (!ipv6_addr_v4mapped(&ctx->user_ip6)) goto native6;   (::ffff:a.b.c.d: words 0, 0, 0xffff0000)
        unlessEqual6Prefix(a, "native6");
        if (own4 == null) {
            // no IPv4 address: a v4-mapped destination is refused: count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.CONNECT, DenialRules.NO_ADDRESS_OF_FAMILY, BIND6), "counted4");
        } else {
            if (own4.isLoopbackAddress()) {
                // if (ctx->user_ip6[3] != 0 && (ctx->user_ip6[3] & 0xff) != 127) goto allow;
                a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 12).jmp32(JumpOp.JEQ, R2, 0, "bind4");
                unlessLoopback4(a, R2, "allow");
            }
            // bind4: bind to ::ffff:own4; goto allow;
            a.label("bind4");
            sockaddrIn6(a, SockAddr.v4Mapped(own4));
            a.ja("allow");
        }
        // native6:
        a.label("native6");
        if (own6 == null) {
            // no IPv6 address: native IPv6 destinations are refused: count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.CONNECT, DenialRules.NO_ADDRESS_OF_FAMILY, BIND6), "counted6");
        } else {
            if (own6.isLoopbackAddress()) {
                // if (!ipv6_addr_loopback(&ctx->user_ip6)) goto allow;
                unlessEqual6(a, BpfSockAddrCtx.USER_IP6, SockAddr.words(own6), "allow");
            }
            // bind to own6
            sockaddrIn6(a, SockAddr.words(own6));
        }
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** Jumps to {@code other} unless user_ip6 starts with the v4-mapped prefix ::ffff:0:0/96. */
    private static void unlessEqual6Prefix(Asm a, String other) {
        // if (ctx->user_ip6[0] != 0 || ctx->user_ip6[1] != 0 || ctx->user_ip6[2] != htonl(0x0000ffff)) goto other;
        //   (each word loaded into r2; htonl(0x0000ffff) loaded as a little-endian u32 is 0xffff0000)
        a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP6).jmp32(JumpOp.JNE, R2, 0, other)
                .ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 4).jmp32(JumpOp.JNE, R2, 0, other)
                .ldxW(R2, R6, BpfSockAddrCtx.USER_IP6 + 8).jmp32(JumpOp.JNE, R2, 0xffff0000, other);
    }

    /** struct sockaddr_in6 at r10-32 (family, port 0, flowinfo 0, address, scope 0), then bpf_bind. */
    private static void sockaddrIn6(Asm a, int[] addr) {
        // struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = ADDR }; bpf_bind(ctx, &sin6, sizeof(sin6));
        //   (sin6 at r10-32: the 32 bytes zeroed, family at -32, the address words at -24, -20, -16, -12)
        a.movImm(R2, 0).stxDW(R10, -32, R2).stxDW(R10, -24, R2).stxDW(R10, -16, R2).stxDW(R10, -8, R2)
                .stH(R10, -32, BpfSockCtx.AF_INET6);
        for (int j = 0; j < 4; j++) {
            a.stW(R10, -24 + 4 * j, addr[j]);
        }
        bindCall(a, -32, SockAddr.SOCKADDR_IN6_SIZE);
    }

    /**
     * The source of an unconnected UDP send (and of any send with control messages, which makes
     * udp_sendmsg take the unconnected path): msg_src_ip4 is 0 when the kernel is to choose (an
     * unbound or wildcard-bound socket), the bound address, or the IP_PKTINFO ipi_spec_dst (or a
     * v4-mapped IPV6_PKTINFO address of an IPv6 socket).
     */
    static Asm sendmsg4(List<Inet4Address> v4, BindMode mode, DenialCounters counters) {
        // r6 = ctx;
        Asm a = new Asm().mov(R6, R1);
        if (v4.isEmpty()) {
            // no IPv4 address: count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.SENDMSG, DenialRules.NO_ADDRESS_OF_FAMILY, SEND4), "counted");
            return a;
        }
        Inet4Address own = v4.get(0);
        boolean lo = own.isLoopbackAddress();
        if (lo) {
            // if (ctx->user_ip4 == 0) goto unspecified;   (no address: a connected socket's send with control messages)
            // if ((ctx->user_ip4 & 0xff) != 127) goto allow;   (a loopback source cannot reach it)
            a.ldxW(R2, R6, BpfSockAddrCtx.USER_IP4).jmp32(JumpOp.JEQ, R2, 0, "unspecified");
            unlessLoopback4(a, R2, "allow");
        }
        source4(a, v4);
        // goto foreign;   (a preset source that is not the container's)
        a.ja("foreign");
        if (lo) {
            // unspecified: the same source tests, then:
            a.label("unspecified");
            source4(a, v4);
            // if ((ctx->msg_src_ip4 & 0xff) != 127) goto allow;   (a non-loopback source, for a non-loopback peer; cgbpf_out judges the packet)
            unlessLoopback4(a, R2, "allow");
        }
        // foreign:
        a.label("foreign");
        if (mode == BindMode.DENY) {
            // count a BIND_ADDRESS denial; return 0;   (rewrite mode falls through to set instead)
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.SENDMSG, DenialRules.NOT_OWN_ADDRESS, SEND4), "counted");
        }
        // set: ctx->msg_src_ip4 = own;
        a.label("set").movImm32(R2, SockAddr.word(own)).stxW(R6, BpfSockAddrCtx.MSG_SRC_IP4, R2);
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** if (ctx->msg_src_ip4 == 0) goto set; if (ctx->msg_src_ip4 == own...) goto allow; (r2 keeps the source) */
    private static void source4(Asm a, List<Inet4Address> v4) {
        // u32 r2 = ctx->msg_src_ip4; if (r2 == 0) goto set;
        a.ldxW(R2, R6, BpfSockAddrCtx.MSG_SRC_IP4).jmp32(JumpOp.JEQ, R2, 0, "set");
        for (Inet4Address x : v4) {
            // if (r2 == OWN) goto allow;   (each container address)
            a.jmp32(JumpOp.JEQ, R2, SockAddr.word(x), "allow");
        }
    }

    /**
     * As {@link #sendmsg4} for native IPv6 destinations (a v4-mapped one takes the IPv4 path and
     * meets cgbpf_send4). Without an IPv6 address every such send is refused.
     */
    static Asm sendmsg6(List<Inet6Address> v6, BindMode mode, DenialCounters counters) {
        // r6 = ctx;
        Asm a = new Asm().mov(R6, R1);
        if (v6.isEmpty()) {
            // no IPv6 address: count a BIND_ADDRESS denial; return 0;
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.SENDMSG, DenialRules.NO_ADDRESS_OF_FAMILY, SEND6), "counted");
            return a;
        }
        int[] own = SockAddr.words(v6.get(0));
        boolean lo = v6.get(0).isLoopbackAddress();
        if (lo) {
            // if (ipv6_addr_any(&ctx->user_ip6)) goto unspecified;
            //   (emitted as: if (some word != 0) goto specified; goto unspecified; specified:)
            unlessEqual6(a, BpfSockAddrCtx.USER_IP6, new int[4], "specified");
            a.ja("unspecified").label("specified");
            // if (!ipv6_addr_loopback(&ctx->user_ip6)) goto allow;
            unlessEqual6(a, BpfSockAddrCtx.USER_IP6, own, "allow");
        }
        source6(a, v6, "");
        // goto foreign;   (a preset source that is not the container's)
        a.ja("foreign");
        if (lo) {
            // unspecified: the same source tests, then:
            a.label("unspecified");
            source6(a, v6, "u");
            // if (!ipv6_addr_loopback(&ctx->msg_src_ip6)) goto allow;   (::1 is the only IPv6 loopback address)
            unlessEqual6(a, BpfSockAddrCtx.MSG_SRC_IP6, own, "allow");
        }
        // foreign:
        a.label("foreign");
        if (mode == BindMode.DENY) {
            // count a BIND_ADDRESS denial; return 0;   (rewrite mode falls through to set instead)
            counters.emitDeny(a, DenialReason.BIND_ADDRESS, new EventSpec(EventKind.SENDMSG, DenialRules.NOT_OWN_ADDRESS, SEND6), "counted");
        }
        // set: memcpy(ctx->msg_src_ip6, own, 16);   (r2 = own[j]; ctx->msg_src_ip6[j] = r2; for each word)
        a.label("set");
        for (int j = 0; j < 4; j++) {
            a.movImm32(R2, own[j]).stxW(R6, BpfSockAddrCtx.MSG_SRC_IP6 + 4 * j, R2);
        }
        // allow: return 1;
        return a.label("allow").movImm(R0, 1).exit();
    }

    /** if (ipv6_addr_any(&ctx->msg_src_ip6)) goto set; if (ctx->msg_src_ip6 == own...) goto allow; */
    private static void source6(Asm a, List<Inet6Address> v6, String tag) {
        // if (ipv6_addr_any(&ctx->msg_src_ip6)) goto set;
        //   (emitted as: if (some word != 0) goto preset; goto set; preset:)
        unlessEqual6(a, BpfSockAddrCtx.MSG_SRC_IP6, new int[4], tag + "preset");
        a.ja("set").label(tag + "preset");
        int k = 0;
        for (Inet6Address x : v6) {
            // if (!memcmp(ctx->msg_src_ip6, OWN, 16)) goto allow;   (each container address)
            String next = tag + "src_other" + k++;
            unlessEqual6(a, BpfSockAddrCtx.MSG_SRC_IP6, SockAddr.words(x), next);
            a.ja("allow").label(next);
        }
    }
}
