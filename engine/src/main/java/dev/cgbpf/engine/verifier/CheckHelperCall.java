package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.verifier.CheckRegArg.*;
import static dev.cgbpf.engine.verifier.VerifierState.*;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Insn;

/**
 * check_helper_call: the helper id exists and the program type may call it
 * ({@link HelperAllowlist}), each argument register holds what the prototype
 * ({@link HelperProto}) asks for, R1-R5 are unreadable afterwards and R0 holds the result.
 */
final class CheckHelperCall {
    private final VerifierEnv env;
    private final CheckMemAccess mem;

    CheckHelperCall(VerifierEnv env, CheckMemAccess mem) {
        this.env = env;
        this.mem = mem;
    }


    void checkHelperCall(Insn insn, VerifierState st) throws VerifierError {
        if (insn.src() == PSEUDO_CALL) {
            throw VerifierError.einval("engine: bpf-to-bpf calls are not supported");
        }
        if (insn.src() == PSEUDO_KFUNC_CALL) {
            throw VerifierError.einval("engine: kfunc calls are not supported");
        }
        int id = insn.imm();
        String name = HelperIds.name(id).orElse("unknown");
        if (id < 0 || id >= HelperIds.maxId()) {
            throw VerifierError.einval("invalid func " + name + "#" + id);
        }
        if (!HelperAllowlist.allowed(env.type, env.attach, id)) {
            throw VerifierError.einval("program of this type cannot use helper " + name + "#" + id);
        }
        HelperProto proto = HelperProto.of(id);
        if (proto == null && HelperProto.mightSleep(id)) {
            throw VerifierError.einval("helper call might sleep in a non-sleepable prog");
        }
        if (proto == null && HelperProto.knowsArg1(id)) {
            // the kernel checks the first argument first: reproduce that check, then give up
            checkRegRead(st, 1);
            RegState r1 = st.regs[1];
            String expected = HelperProto.arg1Expected(id);
            if (expected == null) {
                checkRegRead(st, 2);
            } else {
                boolean ok = switch (expected) {
                    case "map_ptr" -> r1.type() == RegType.CONST_PTR_TO_MAP && !r1.maybeNull();
                    case "map_value" -> r1.type() == RegType.PTR_TO_MAP_VALUE && !r1.maybeNull();
                    case HelperProto.MEM_TYPES -> r1.type() == RegType.PTR_TO_STACK || r1.type().isPacket()
                            || r1.type() == RegType.PTR_TO_MAP_VALUE && !r1.maybeNull();
                    default -> r1.type().isSocket() && !r1.maybeNull() || r1.type() == RegType.PTR_TO_MAP_VALUE
                            && expected.startsWith("map_value");
                };
                expect(r1, 1, ok, expected);
            }
        }
        if (proto == null) {
            throw VerifierError.einval("engine: helper " + name + "#" + id + " is not modelled by the engine verifier");
        }
        MapSpec map = null;
        for (int i = 0; i < proto.args().size(); i++) {
            int regno = i + 1;
            HelperProto.Arg arg = proto.args().get(i);
            checkRegRead(st, regno);
            RegState r = st.regs[regno];
            switch (arg) {
                case ANYTHING -> {
                }
                case CONST_MAP_PTR -> {
                    expect(r, regno, r.type() == RegType.CONST_PTR_TO_MAP && !r.maybeNull(), "map_ptr");
                    map = r.map();
                }
                case PTR_TO_CTX, PTR_TO_CTX_OR_NULL -> {
                    if (arg == HelperProto.Arg.PTR_TO_CTX_OR_NULL && r.isNullConst()) {
                        break;
                    }
                    expect(r, regno, r.type() == RegType.PTR_TO_CTX && !r.maybeNull(), "ctx");
                    CheckMemAccess.checkCtxPtrOff(r, regno);
                }
                case PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE -> {
                    expectMem(r, regno);
                    if (map == null) {
                        throw VerifierError.eacces("invalid map_ptr to access map->" + (arg == HelperProto.Arg.PTR_TO_MAP_KEY ? "key" : "value"));
                    }
                    helperMem(st, regno, arg == HelperProto.Arg.PTR_TO_MAP_KEY ? map.keySize() : map.valueSize(), false);
                }
                case PTR_TO_MEM_RDONLY, PTR_TO_UNINIT_MEM -> expectMem(r, regno);
                case CONST_SIZE, CONST_SIZE_OR_ZERO -> {
                    expect(r, regno, r.isScalar(), "scalar");
                    Scalar v = r.val();
                    if (v.smin() < 0) {
                        throw VerifierError.eacces("R" + regno + " min value is negative, either use unsigned or 'var &= const'");
                    }
                    if (v.umin() == 0 && arg == HelperProto.Arg.CONST_SIZE) {
                        throw VerifierError.eacces("R" + regno + " invalid zero-sized read: u64=[" + v.umin() + "," + v.umax() + "]");
                    }
                    if (Long.compareUnsigned(v.umax(), DoCheck.MAX_VAR_OFF) >= 0) {
                        throw VerifierError.eacces("R" + regno + " unbounded memory access, use 'var &= const' or 'if (var < const)'");
                    }
                    helperMem(st, regno - 1, (int) v.umax(),
                            proto.args().get(i - 1) == HelperProto.Arg.PTR_TO_UNINIT_MEM);
                    if (proto.args().get(i - 1) == HelperProto.Arg.PTR_TO_UNINIT_MEM) {
                        markWritten(st, regno - 1, (int) v.umax());
                    }
                }
            }
        }
        checkMapFuncCompatibility(map, id, name);
        boolean constKeyHit = proto.ret() == HelperProto.Ret.MAP_VALUE_OR_NULL && map != null
                && constArrayKeyInBounds(st, map);
        for (int r = 1; r <= 5; r++) {
            st.regs[r] = RegState.NOT_INIT;
        }
        st.regs[0] = switch (proto.ret()) {
            case INTEGER -> id == SMP_PROCESSOR_ID ? RegState.scalar(Scalar.fromUnsigned(0, NrCpuIds.get() - 1))
                    : RegState.UNKNOWN;
            case MAP_VALUE_OR_NULL -> constKeyHit
                    ? new RegState(RegType.PTR_TO_MAP_VALUE, false, 0, Scalar.constant(0), 0, 0, map, 0)
                    : new RegState(RegType.PTR_TO_MAP_VALUE, true, 0, Scalar.constant(0), env.nextId(), 0, map, 0);
            case MAP_VALUE -> new RegState(RegType.PTR_TO_MAP_VALUE, false, 0, Scalar.constant(0), 0, 0, map, 0);
            case BTF_PTR -> RegState.pointer(RegType.PTR_TO_OTHER, 0);
        };
    }

    private static final int GET_LOCAL_STORAGE = 81;

    /**
     * The kernel's check_map_func_compatibility, for the map types the engine has: cgroup storage
     * maps go only to bpf_get_local_storage, and it takes nothing else.
     */
    private static void checkMapFuncCompatibility(MapSpec map, int id, String name) throws VerifierError {
        if (map == null) {
            return;
        }
        boolean storage = map.type() == MapType.CGROUP_STORAGE || map.type() == MapType.PERCPU_CGROUP_STORAGE;
        if (storage != (id == GET_LOCAL_STORAGE)) {
            throw VerifierError.einval("cannot pass map_type " + map.type().value() + " into func " + name + "#" + id);
        }
    }

    private static final int SMP_PROCESSOR_ID = 8;

    /**
     * A lookup in an array map with a key the verifier knows and that is below max_entries cannot
     * fail (6.18: the key register's stack bytes hold a constant spilled with the key's size, or
     * zeros).
     */
    private static boolean constArrayKeyInBounds(VerifierState st, MapSpec map) {
        if (map.type() != MapType.ARRAY) {
            return false;
        }
        // R2 is NOT_INIT again only after the call; this runs before the argument registers are reset
        RegState key = st.regs[2];
        if (key.type() != RegType.PTR_TO_STACK || !key.val().isConst()) {
            return false;
        }
        int at = (int) (key.val().constValue() + key.off() + MAX_BPF_STACK);
        if (at < 0 || at + map.keySize() > MAX_BPF_STACK) {
            return false;
        }
        // get_constant_map_key: zeros from the key's first byte up to the end of its slot, or a constant
        // spilled with exactly the key's size; the constant is the whole spilled register, as in the kernel
        long value;
        int slot = at / 8;
        if (at % 8 == 0 && st.spill[slot] != null && st.spillSize[slot] == map.keySize() && st.spill[slot].isConst()) {
            value = st.spill[slot].val().constValue();
        } else {
            if (at % 8 + map.keySize() > 8) {
                return false;
            }
            for (int i = 0; i < map.keySize(); i++) {
                if (st.stype[at + i] != STACK_ZERO) {
                    return false;
                }
            }
            value = 0;
        }
        return Long.compareUnsigned(value, map.maxEntries()) < 0;
    }

    private static void expect(RegState r, int regno, boolean ok, String expected) throws VerifierError {
        if (!ok) {
            throw VerifierError.eacces("R" + regno + " type=" + r.typeName() + " expected=" + expected);
        }
    }

    private static void expectMem(RegState r, int regno) throws VerifierError {
        boolean ok = !r.maybeNull() && (r.type() == RegType.PTR_TO_STACK || r.type().isPacket()
                || r.type() == RegType.PTR_TO_MAP_VALUE);
        expect(r, regno, ok, HelperProto.MEM_TYPES);
    }

    /** check_helper_mem_access: {@code size} bytes at the pointer in {@code regno} must be accessible. */
    private void helperMem(VerifierState st, int regno, int size, boolean write) throws VerifierError {
        RegState r = st.regs[regno];
        switch (r.type()) {
            case PTR_TO_STACK -> {
                int off = r.off();
                if (size == 0) {
                    return;
                }
                mem.stackBounds(regno, r, off, size, write ? " write to" : " read from");
            }
            case PTR_TO_PACKET, PTR_TO_PACKET_META -> mem.packetAccess(regno, r, r.off(), size);
            case PTR_TO_MAP_VALUE -> mem.mapValueAccess(regno, r, r.off(), size, true);
            default -> {
            }
        }
    }

    private static void markWritten(VerifierState st, int regno, int size) {
        RegState r = st.regs[regno];
        if (r.type() != RegType.PTR_TO_STACK) {
            return;
        }
        long lo = r.val().smin() + r.off() + MAX_BPF_STACK;
        long hi = r.val().smax() + r.off() + size + MAX_BPF_STACK;
        for (long b = Math.max(0, lo); b < Math.min(MAX_BPF_STACK, hi); b++) {
            st.stype[(int) b] = STACK_MISC;
            CheckMemAccess.clearSlot(st, (int) b / 8);
        }
    }
}
