package dev.cgbpf.hook.compile;

import static dev.cgbpf.engine.isa.Reg.R0;
import static dev.cgbpf.engine.isa.Reg.R1;
import static dev.cgbpf.engine.isa.Reg.R2;
import static dev.cgbpf.engine.isa.Reg.R3;
import static dev.cgbpf.engine.isa.Reg.R4;
import static dev.cgbpf.engine.isa.Reg.R6;
import static dev.cgbpf.engine.isa.Reg.R7;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfSockCtx;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.hook.policy.SocketRule;

import java.util.Optional;
import java.util.Set;

/**
 * Compiles socket rules into {@code cgbpf_sock}, a cgroup_sock program at
 * cgroup_inet_sock_create: it reads {@code struct bpf_sock} family, type and protocol (offsets
 * and values from the engine's {@link BpfSockCtx}) and refuses (returns 0: socket(2) fails with
 * EPERM) a socket of a denied kind. The kernel resolves protocol 0 to the type's default before
 * the hook runs, so "udp" catches socket(AF_INET, SOCK_DGRAM, 0) too. A protocol word covers the
 * protocol's variants (see {@link SocketRule}): "tcp" IPPROTO_TCP and IPPROTO_MPTCP (the MPTCP
 * socket itself reaches the hook with sk_protocol 262; its TCP subflows are kernel sockets,
 * which the hook skips), "udp" IPPROTO_UDP and IPPROTO_UDPLITE.
 */
public final class SockCreateCompiler {
    private SockCreateCompiler() {
    }

    public static Optional<CompiledProgram> compile(Set<SocketRule> deny, DenialCounters counters) {
        if (deny.isEmpty()) {
            return Optional.empty();
        }
        Asm a = new Asm();
        Reg ctx = R1;
        if (counters.events()) {
            // r6 = sk;   (the event reads it after helper calls, which clobber r1)
            a.mov(R6, R1);
            ctx = R6;
        }
        // u32 r2 = sk->family, r3 = sk->type, r4 = sk->protocol;    (r1 = struct bpf_sock *sk)
        a.ldxW(R2, ctx, BpfSockCtx.FAMILY)
                .ldxW(R3, ctx, BpfSockCtx.TYPE)
                .ldxW(R4, ctx, BpfSockCtx.PROTOCOL);
        // one test per denied kind, in the set's order
        for (SocketRule r : deny) {
            // with events each rule has its own entry, which records which rule matched
            String d = counters.events() ? "deny_" + r.name() : "deny";
            switch (r) {
                // if (sk->family == AF_INET) goto deny;
                case INET -> a.jmp32(JumpOp.JEQ, R2, BpfSockCtx.AF_INET, d);
                // if (sk->family == AF_INET6) goto deny;
                case INET6 -> a.jmp32(JumpOp.JEQ, R2, BpfSockCtx.AF_INET6, d);
                // if (sk->type == SOCK_RAW) goto deny;
                case RAW -> a.jmp32(JumpOp.JEQ, R3, BpfSockCtx.SOCK_RAW, d);
                // if (sk->protocol == IPPROTO_TCP || sk->protocol == IPPROTO_MPTCP) goto deny;
                case TCP -> a.jmp32(JumpOp.JEQ, R4, BpfSockCtx.IPPROTO_TCP, d)
                        .jmp32(JumpOp.JEQ, R4, BpfSockCtx.IPPROTO_MPTCP, d);
                // if (sk->protocol == IPPROTO_UDP || sk->protocol == IPPROTO_UDPLITE) goto deny;
                case UDP -> a.jmp32(JumpOp.JEQ, R4, BpfSockCtx.IPPROTO_UDP, d)
                        .jmp32(JumpOp.JEQ, R4, BpfSockCtx.IPPROTO_UDPLITE, d);
                default -> throw new IllegalStateException(r.name());
            }
        }
        // return 1;                   (no denied kind: socket(2) proceeds)
        // deny: count a SOCKET denial; return 0;
        a.movImm(R0, 1).exit();
        if (counters.events()) {
            for (SocketRule r : deny) {
                // deny_RULE: r7 = RULE; goto deny;   (the rule index for the event)
                a.label("deny_" + r.name()).movImm(R7, DenialRules.socketRule(r)).ja("deny");
            }
        }
        a.label("deny");
        counters.emitDeny(a, DenialReason.SOCKET, new EventSpec(EventKind.SOCKET, EventSpec.IN_R7,
                new EventSpec.SocketFields()), "counted");
        return Optional.of(new CompiledProgram("cgbpf_sock", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE,
                a.build()));
    }
}
