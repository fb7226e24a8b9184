package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.hook.policy.Access;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceException;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.PolicyException;

import java.util.List;

/**
 * Compiles a device allowlist into ONE cgroup_device program, {@code cgbpf_dev}.
 *
 * <p>Shape: load type (access_type &amp; 0xffff), access (access_type &gt;&gt; 16), major and
 * minor into r2-r5 once; then one block per exception that folds every mismatch into r1 without
 * branching (xor against the type, major and minor, skipped for wildcards, plus the access
 * test) and takes ONE conditional jump to the next block when r1 is not zero. A block that falls
 * through has matched and decides: deny-by-default, it returns 1; allow-by-default, it jumps to
 * the shared refusal (count a DEVICE denial, return 0). The end of the chain is the default.
 *
 * <p>Why not runc's shape (one jump per field): the verifier keeps every not-yet-taken branch on
 * a stack, and a chain of blocks with several jumps each piles up branches faster than state
 * pruning can remove them; on the running kernel (6.18) 1,000 such exceptions already exceed the
 * 1,000,000 processed-instruction budget and 20,000 overflow the 8,192-entry branch stack. With
 * one jump per block the verifier's work grows linearly: each block's fall-through ends at once
 * and its single pending branch is popped next.
 *
 * <p>The access test: "request is a subset" for allow exceptions, i.e. mismatch = access &amp;
 * ~bits; "request shares a bit" for deny exceptions, i.e. mismatch = ((access &amp; bits) == 0),
 * computed branch-free as ((x - 1) &gt;&gt; 31) (x is at most 7, so x - 1 has bit 31 set only for
 * x = 0); left out when the exception covers rwm. All compares are 32-bit (the context fields are
 * u32).
 *
 * <p>Events (when the counters have them): a refusal reports which rule decided
 * ({@link DenialRules}): a matched deny block sets r7 to its exception's index before its one
 * jump to the shared refusal (one instruction more per block, on the path that already leaves
 * the chain, so the verifier's work stays linear), the end of a deny-by-default chain sets the
 * default's index. The context is kept in r6 for the event's object fields.
 */
public final class DeviceCompiler {
    public static final String NAME = "cgbpf_dev";
    /** The host policy's device ceiling, a second program next to the container's own list. */
    public static final String HOST_NAME = "cgbpf_dev_host";
    /** Beyond this many exceptions a deny block's jump to the shared refusal may exceed a 16-bit offset. */
    static final int SHORT_JUMP_EXCEPTIONS = 1500;
    /** A device refusal's event: the rule index in r7, the object from the context in r6. */
    static final EventSpec DEVICE_EVENT = new EventSpec(EventKind.DEVICE, EventSpec.IN_R7, new EventSpec.DeviceFields());

    private DeviceCompiler() {
    }

    /** Merges {@code rules} (OCI order, runc semantics) and compiles the result, without counters. */
    public static Program compile(List<DeviceRule> rules) throws PolicyException {
        return compile(DevicesEmulator.merge(rules), DenialCounters.NONE);
    }

    public static CompiledProgram program(DeviceAllowlist list, DenialCounters counters) {
        return program(NAME, list, counters);
    }

    public static CompiledProgram program(String name, DeviceAllowlist list, DenialCounters counters) {
        return new CompiledProgram(name, ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE, compile(name, list, counters));
    }

    /** The program of {@code list} in the chosen shape (the maps shape with its map). */
    public static CompiledProgram program(String name, DeviceAllowlist list, DenialCounters counters, DeviceShape shape) {
        return shape == DeviceShape.MAPS ? DeviceMapCompiler.program(name, list, counters) : program(name, list, counters);
    }

    public static Program compile(DeviceAllowlist list, DenialCounters counters) {
        return compile(NAME, list, counters);
    }

    /** The program of {@code name} ({@link #NAME} or {@link #HOST_NAME}: the rule indices its events carry). */
    public static Program compile(String name, DeviceAllowlist list, DenialCounters counters) {
        Asm a = new Asm();
        if (list.defaultAllow() && list.exceptions().isEmpty()) {
            // nothing to refuse; the verifier would reject an unreachable refusal tail
            return a.movImm(Reg.R0, 1).exit().build();
        }
        // The emitted program, in C (every register operation is 32-bit, on u32 values):
        //
        // u32 r2 = ctx->access_type & 0xffff;   // type: BPF_DEVCG_DEV_BLOCK 1, BPF_DEVCG_DEV_CHAR 2
        // u32 r3 = ctx->access_type >> 16;      // access: BPF_DEVCG_ACC_MKNOD 1 | ACC_READ 2 | ACC_WRITE 4
        // u32 r4 = ctx->major;
        // u32 r5 = ctx->minor;
        a.ldxW(Reg.R2, Reg.R1, BpfCgroupDevCtx.OFF_ACCESS_TYPE)
                .alu32(AluOp.AND, Reg.R2, 0xffff)
                .ldxW(Reg.R3, Reg.R1, BpfCgroupDevCtx.OFF_ACCESS_TYPE)
                .alu32(AluOp.RSH, Reg.R3, 16)
                .ldxW(Reg.R4, Reg.R1, BpfCgroupDevCtx.OFF_MAJOR)
                .ldxW(Reg.R5, Reg.R1, BpfCgroupDevCtx.OFF_MINOR);
        if (counters.events()) {
            // r6 = ctx;                             // for the event's fields (r1 collects mismatches below)
            a.mov(Reg.R6, Reg.R1);
        }
        boolean far = list.exceptions().size() > SHORT_JUMP_EXCEPTIONS;
        int i = 0;
        for (DeviceException e : list.exceptions()) {
            // One block per exception (TYPE, MAJOR, MINOR, ACCESS its values). r1 collects the
            // mismatches: each field is xor-ed with the exception's value (0 when equal) and
            // or-ed into r1, so r1 == 0 exactly when every field matches; r0 is scratch.
            String next = "next" + i++;
            // r1 = r2 ^ TYPE;                      // 0 iff the type matches
            a.mov32(Reg.R1, Reg.R2).alu32(AluOp.XOR, Reg.R1, devcgType(e.type()));
            if (e.major() != DeviceRule.ANY) {
                // r0 = r4 ^ MAJOR; r1 |= r0;       // (no test for a wildcard major)
                a.mov32(Reg.R0, Reg.R4).alu32(AluOp.XOR, Reg.R0, (int) e.major()).alu32(AluOp.OR, Reg.R1, Reg.R0);
            }
            if (e.minor() != DeviceRule.ANY) {
                // r0 = r5 ^ MINOR; r1 |= r0;       // (no test for a wildcard minor)
                a.mov32(Reg.R0, Reg.R5).alu32(AluOp.XOR, Reg.R0, (int) e.minor()).alu32(AluOp.OR, Reg.R1, Reg.R0);
            }
            if (e.access() != Access.ALL) {
                if (list.defaultAllow()) {
                    // A deny exception matches a request that shares an access with it:
                    // r0 = r3 & ACCESS;                // the requested accesses it names, 0..7
                    // r0 -= 1;                         // 0xffffffff iff r0 was 0, else 0..6
                    // r0 >>= 31;                       // 1 iff r0 was 0: no access in common
                    // r1 |= r0;
                    a.mov32(Reg.R0, Reg.R3).alu32(AluOp.AND, Reg.R0, devcgAccess(e.access()))
                            .alu32(AluOp.ADD, Reg.R0, -1).alu32(AluOp.RSH, Reg.R0, 31)
                            .alu32(AluOp.OR, Reg.R1, Reg.R0);
                } else {
                    // An allow exception matches a request all of whose accesses it allows:
                    // r0 = r3 & (~ACCESS & 7);         // the requested accesses it does not allow
                    // r1 |= r0;
                    a.mov32(Reg.R0, Reg.R3).alu32(AluOp.AND, Reg.R0, devcgAccess(~e.access() & Access.ALL))
                            .alu32(AluOp.OR, Reg.R1, Reg.R0);
                }
            }
            // if (r1 != 0) goto next;              // a mismatch: try the next exception
            a.jmp32(JumpOp.JNE, Reg.R1, 0, next);
            if (list.defaultAllow()) {
                if (counters.events()) {
                    // r7 = RULE;                   // the event's rule: this exception's index
                    a.movImm(Reg.R7, DenialRules.deviceRule(name, i - 1));
                }
                // goto deny;                       // matched a deny exception (gotol beyond 16-bit offsets)
                if (far) {
                    a.gotol("deny");
                } else {
                    a.ja("deny");
                }
            } else {
                // return 1;                        // matched an allow exception
                a.movImm(Reg.R0, 1).exit();
            }
            // next:
            a.label(next);
        }
        if (list.defaultAllow()) {
            // return 1;                            // no deny exception matched
            // deny:
            a.movImm(Reg.R0, 1).exit();
            a.label("deny");
        }
        // (deny-by-default: no allow exception matched, so the chain falls through to here)
        if (!list.defaultAllow() && counters.events()) {
            // r7 = DEFAULT;                        // the event's rule: the list's default decided
            a.movImm(Reg.R7, DenialRules.deviceRule(name, DenialRules.DEVICE_DEFAULT));
        }
        // report the event (r7 its rule, r6 the ctx); count a DEVICE denial; return 0;   (DenialCounters.emitDeny)
        counters.emitDeny(a, DenialReason.DEVICE, DEVICE_EVENT, "counted");
        return a.build();
    }

    /** The policy's device type as the context's BPF_DEVCG_DEV_* value. */
    static int devcgType(DeviceType t) {
        return switch (t) {
            case BLOCK -> BpfCgroupDevCtx.DEV_BLOCK;
            case CHAR -> BpfCgroupDevCtx.DEV_CHAR;
            case ALL -> throw new IllegalArgumentException("an exception has a concrete device type");
        };
    }

    /** The policy's access bits as the context's BPF_DEVCG_ACC_* bits. */
    static int devcgAccess(int access) {
        return ((access & Access.MKNOD) != 0 ? BpfCgroupDevCtx.ACC_MKNOD : 0)
                | ((access & Access.READ) != 0 ? BpfCgroupDevCtx.ACC_READ : 0)
                | ((access & Access.WRITE) != 0 ? BpfCgroupDevCtx.ACC_WRITE : 0);
    }
}
