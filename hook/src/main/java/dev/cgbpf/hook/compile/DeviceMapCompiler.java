package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceException;
import dev.cgbpf.hook.policy.DeviceRule;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Compiles a device allowlist into the maps shape: a hash map holding the merged exceptions and
 * a small program that looks the accessed device up in it, once per wildcard class the list
 * uses, so that a check costs at most four lookups whatever the number of exceptions.
 *
 * <p>The map holds exactly {@link dev.cgbpf.hook.policy.DevicesEmulator}'s merged exceptions, so
 * runc's ordered semantics are already applied: later rules have overridden earlier ones, a type
 * {@code a} rule has become the list's default. What is left does not depend on order: in a
 * deny-by-default list an access is allowed when SOME matching exception covers all its bits; in
 * an allow-by-default list it is denied when SOME matching exception shares a bit. A device
 * (type, major, minor) matches at most four exceptions, one per class: exact, any major, any
 * minor, both any. So the program looks up those four keys (only the classes the list has) and
 * applies the test to each value it finds.
 *
 * <p>Key, 12 bytes (u32 each, host order): {@code kind} = BPF_DEVCG_DEV_* | {@link #ANY_MAJOR}
 * | {@link #ANY_MINOR}, then major and minor (0 where the kind says any). The wildcard is a flag
 * rather than a reserved number because every u32 is a valid major or minor in a rule. Value, 12
 * bytes: the exception's access bits (BPF_DEVCG_ACC_*), its decision (1 allow, 0 deny) and its
 * rule index, the exception's position in the merged list as {@link DenialRules} numbers it: a
 * refusal's event carries the index of the deny entry that matched, or the default's when no
 * allow entry covered the access. The index is read only on the way to the refusal.
 *
 * <p>The map is filled before the program is loaded and never written afterwards; a live update
 * builds a new map and a new program and swaps the program in (docs/hook.md, "cgbpf update").
 */
public final class DeviceMapCompiler {
    public static final int ANY_MAJOR = 0x100;
    public static final int ANY_MINOR = 0x200;
    public static final int KEY_SIZE = 12;
    public static final int VALUE_SIZE = 12;
    public static final int ALLOW = 1;
    public static final int DENY = 0;
    /** The stack slot of the key: fp-16 .. fp-4 (fp-4 .. fp-1 stay free for the counter's key). */
    private static final int KEY_OFF = -16;

    /** The wildcard classes of an exception, in the order the program looks them up. */
    enum KeyClass {
        EXACT(0), ANY_MINOR(DeviceMapCompiler.ANY_MINOR), ANY_MAJOR(DeviceMapCompiler.ANY_MAJOR),
        ANY_BOTH(DeviceMapCompiler.ANY_MAJOR | DeviceMapCompiler.ANY_MINOR);

        final int flags;

        KeyClass(int flags) {
            this.flags = flags;
        }

        static KeyClass of(DeviceException e) {
            boolean anyMajor = e.major() == DeviceRule.ANY;
            boolean anyMinor = e.minor() == DeviceRule.ANY;
            return anyMajor ? (anyMinor ? ANY_BOTH : ANY_MAJOR) : (anyMinor ? ANY_MINOR : EXACT);
        }
    }

    private DeviceMapCompiler() {
    }

    /** The program and its map; the list must have exceptions (an empty one needs no map: {@link DeviceShape}). */
    public static CompiledProgram program(String name, DeviceAllowlist list, DenialCounters counters) {
        if (list.exceptions().isEmpty()) {
            throw new IllegalArgumentException("a device list without exceptions has nothing to look up");
        }
        ProgramMap map = map(name, list);
        return new CompiledProgram(name, ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE,
                compile(name, list, counters, ProgramMap.UNBOUND_FD), map);
    }

    /** The map of {@code list}'s exceptions, named (kernel map name) as the program. */
    public static ProgramMap map(String name, DeviceAllowlist list) {
        List<ProgramMap.Entry> entries = new ArrayList<>(list.exceptions().size());
        int decision = list.defaultAllow() ? DENY : ALLOW;
        for (int i = 0; i < list.exceptions().size(); i++) {
            DeviceException e = list.exceptions().get(i);
            entries.add(new ProgramMap.Entry(key(e), value(DeviceCompiler.devcgAccess(e.access()), decision,
                    DenialRules.deviceRule(name, i))));
        }
        MapSpec spec = new MapSpec(name, MapType.HASH, KEY_SIZE, VALUE_SIZE, entries.size(), 0);
        return new ProgramMap(spec, name + ProgramMap.PIN_SUFFIX, entries);
    }

    static byte[] key(DeviceException e) {
        KeyClass c = KeyClass.of(e);
        return ByteBuffer.allocate(KEY_SIZE).order(ByteOrder.nativeOrder())
                .putInt(DeviceCompiler.devcgType(e.type()) | c.flags)
                .putInt(e.major() == DeviceRule.ANY ? 0 : (int) e.major())
                .putInt(e.minor() == DeviceRule.ANY ? 0 : (int) e.minor())
                .array();
    }

    static byte[] value(int access, int decision, int rule) {
        return ByteBuffer.allocate(VALUE_SIZE).order(ByteOrder.nativeOrder()).putInt(access).putInt(decision)
                .putInt(rule).array();
    }

    /** The program alone, its map referred to by {@code mapFd}. */
    public static Program compile(DeviceAllowlist list, DenialCounters counters, int mapFd) {
        return compile(DeviceCompiler.NAME, list, counters, mapFd);
    }

    /** The program of {@code name} ({@link DeviceCompiler#HOST_NAME}: the host's rule indices in its events). */
    public static Program compile(String name, DeviceAllowlist list, DenialCounters counters, int mapFd) {
        Set<KeyClass> classes = EnumSet.noneOf(KeyClass.class);
        list.exceptions().forEach(e -> classes.add(KeyClass.of(e)));
        Asm a = new Asm();
        // The emitted program, in C:
        //
        // u32 type = ctx->access_type & 0xffff, access = ctx->access_type >> 16;
        // struct { u32 kind, major, minor; } key;
        // for each class the list has (exact, any minor, any major, both any):
        //     key = { type | CLASS, CLASS has any major ? 0 : ctx->major, CLASS has any minor ? 0 : ctx->minor };
        //     struct { u32 access, decision, rule; } *v = bpf_map_lookup_elem(&map, &key);
        //     if (v && v->decision && (access & ~v->access) == 0) return 1;   // an allow covering every bit
        //     if (v && !v->decision) { rule = v->rule;                        // (events only)
        //         if ((access & v->access) != 0) goto deny; }                 // a deny sharing a bit
        // rule = DEFAULT_RULE;   (events only)
        // return DEFAULT;   (deny: report the event, count a DEVICE denial, return 0)
        //
        // r6 = ctx, r9 = access, r8 = type, r7 = rule; the map is reloaded into r1 for each lookup
        a.mov(Reg.R6, Reg.R1)
                .ldxW(Reg.R8, Reg.R6, BpfCgroupDevCtx.OFF_ACCESS_TYPE)
                .mov32(Reg.R9, Reg.R8).alu32(AluOp.RSH, Reg.R9, 16)
                .alu32(AluOp.AND, Reg.R8, 0xffff);
        int i = 0;
        for (KeyClass c : classes) {
            String next = "class" + i++;
            // key.kind = type | CLASS;
            a.mov32(Reg.R1, Reg.R8);
            if (c.flags != 0) {
                a.alu32(AluOp.OR, Reg.R1, c.flags);
            }
            a.stxW(Reg.R10, KEY_OFF, Reg.R1);
            // key.major = ctx->major or 0; key.minor = ctx->minor or 0;
            if ((c.flags & ANY_MAJOR) != 0) {
                a.stW(Reg.R10, KEY_OFF + 4, 0);
            } else {
                a.ldxW(Reg.R1, Reg.R6, BpfCgroupDevCtx.OFF_MAJOR).stxW(Reg.R10, KEY_OFF + 4, Reg.R1);
            }
            if ((c.flags & ANY_MINOR) != 0) {
                a.stW(Reg.R10, KEY_OFF + 8, 0);
            } else {
                a.ldxW(Reg.R1, Reg.R6, BpfCgroupDevCtx.OFF_MINOR).stxW(Reg.R10, KEY_OFF + 8, Reg.R1);
            }
            // v = bpf_map_lookup_elem(&map, &key); if (!v) goto next;
            a.ldMapFd(Reg.R1, mapFd).mov(Reg.R2, Reg.R10).add(Reg.R2, KEY_OFF)
                    .call("bpf_map_lookup_elem")
                    .jeq(Reg.R0, 0, next);
            // r1 = v->access; r2 = v->decision;
            a.ldxW(Reg.R1, Reg.R0, 0).ldxW(Reg.R2, Reg.R0, 4);
            String denyEntry = next + "_deny";
            a.jmp32(JumpOp.JEQ, Reg.R2, DENY, denyEntry);
            // allow entry: if ((access & ~v->access) == 0) return 1;
            a.alu32(AluOp.XOR, Reg.R1, -1).alu32(AluOp.AND, Reg.R1, Reg.R9)
                    .jmp32(JumpOp.JEQ, Reg.R1, 0, "allow")
                    .ja(next);
            a.label(denyEntry);
            if (counters.events()) {
                // deny entry: rule = v->rule;      // the event's rule, should this entry refuse
                a.ldxW(Reg.R7, Reg.R0, 8);
            }
            // deny entry: if ((access & v->access) != 0) goto deny;
            a.alu32(AluOp.AND, Reg.R1, Reg.R9)
                    .jmp32(JumpOp.JNE, Reg.R1, 0, "deny");
            a.label(next);
        }
        if (list.defaultAllow()) {
            a.label("allow").movImm(Reg.R0, 1).exit();
            a.label("deny");
        } else {
            if (counters.events()) {
                // rule = DEFAULT_RULE;             // no allow entry covered the access: the default decided
                a.movImm(Reg.R7, DenialRules.deviceRule(name, DenialRules.DEVICE_DEFAULT));
            }
            a.ja("deny");
            a.label("allow").movImm(Reg.R0, 1).exit();
            a.label("deny");
        }
        // report the event (r7 its rule, r6 the ctx); count a DEVICE denial; return 0;
        counters.emitDeny(a, DenialReason.DEVICE, DeviceCompiler.DEVICE_EVENT, "counted");
        return a.build();
    }
}
