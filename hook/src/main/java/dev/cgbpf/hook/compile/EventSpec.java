package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.hooks.BpfSockAddrCtx;
import dev.cgbpf.engine.hooks.BpfSockCtx;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Reg;

/**
 * The event a refusal reports: its kind, the rule that decided (an immediate, or {@link #IN_R7}
 * when the program chose among rules at run time) and where the object fields come from.
 */
record EventSpec(EventKind kind, int rule, Fields fields) {
    /** The rule index is in r7 (callee-saved: it survives the helper calls). */
    static final int IN_R7 = -1;

    boolean ruleInR7() {
        return rule == IN_R7;
    }

    /** Stores the object fields into the record at r10 + base, from the context in r6; may clobber r2. */
    sealed interface Fields permits SockAddrFields, SocketFields, DeviceFields {
        void emit(Asm a, int base);
    }

    /**
     * A cgroup_sock_addr context: family, type, protocol, user_port (to host order) and the
     * address at {@code addrOff} (user_ip4/6 or msg_src_ip4/6; only the one the attach type may
     * read), 1 word for IPv4 or 4 for IPv6.
     */
    record SockAddrFields(int addrOff, int words) implements Fields {
        @Override
        public void emit(Asm a, int base) {
            // ev.a0 = ctx->user_family; ev.a1 = ctx->type; ev.a2 = ctx->protocol;
            a.ldxW(Reg.R2, Reg.R6, BpfSockAddrCtx.USER_FAMILY).stxW(Reg.R10, base + EventLayout.A0, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfSockAddrCtx.TYPE).stxW(Reg.R10, base + EventLayout.A1, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfSockAddrCtx.PROTOCOL).stxW(Reg.R10, base + EventLayout.A2, Reg.R2);
            // ev.port = bpf_ntohs(ctx->user_port);
            a.ldxW(Reg.R2, Reg.R6, BpfSockAddrCtx.USER_PORT).be(Reg.R2, 16).stxW(Reg.R10, base + EventLayout.PORT, Reg.R2);
            // memcpy(ev.addr, (void *)ctx + ADDR_OFF, 4 * WORDS);   (word by word, network order kept)
            for (int j = 0; j < words; j++) {
                a.ldxW(Reg.R2, Reg.R6, addrOff + 4 * j).stxW(Reg.R10, base + EventLayout.ADDR + 4 * j, Reg.R2);
            }
        }
    }

    /** A cgroup_sock context (sock_create): family, type, protocol. */
    record SocketFields() implements Fields {
        @Override
        public void emit(Asm a, int base) {
            // ev.a0 = sk->family; ev.a1 = sk->type; ev.a2 = sk->protocol;
            a.ldxW(Reg.R2, Reg.R6, BpfSockCtx.FAMILY).stxW(Reg.R10, base + EventLayout.A0, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfSockCtx.TYPE).stxW(Reg.R10, base + EventLayout.A1, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfSockCtx.PROTOCOL).stxW(Reg.R10, base + EventLayout.A2, Reg.R2);
        }
    }

    /** A cgroup_device context: access_type as the kernel gives it ((access << 16) | type), major, minor. */
    record DeviceFields() implements Fields {
        @Override
        public void emit(Asm a, int base) {
            // ev.a0 = ctx->access_type; ev.a1 = ctx->major; ev.a2 = ctx->minor;
            a.ldxW(Reg.R2, Reg.R6, BpfCgroupDevCtx.OFF_ACCESS_TYPE).stxW(Reg.R10, base + EventLayout.A0, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfCgroupDevCtx.OFF_MAJOR).stxW(Reg.R10, base + EventLayout.A1, Reg.R2)
                    .ldxW(Reg.R2, Reg.R6, BpfCgroupDevCtx.OFF_MINOR).stxW(Reg.R10, base + EventLayout.A2, Reg.R2);
        }
    }
}
