package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.verifier.CheckRegArg.*;
import static dev.cgbpf.engine.verifier.VerifierState.*;

import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.isa.Insn;

/**
 * check_mem_access and friends: loads and stores through context, stack, map value, packet and
 * socket pointers, the stack's spill and fill bookkeeping, atomics, and check_ptr_off_reg.
 */
final class CheckMemAccess {
    private final VerifierEnv env;

    CheckMemAccess(VerifierEnv env) {
        this.env = env;
    }

    void auxPtr(int idx, RegType t) throws VerifierError {
        // save_aux_ptr_type: one load/store instruction may not serve ctx and another pointer kind
        RegType old = env.auxPtrType[idx];
        RegType cur = t == RegType.PTR_TO_CTX ? RegType.PTR_TO_CTX : RegType.SCALAR;
        if (old == null) {
            env.auxPtrType[idx] = cur;
        } else if (old != cur) {
            throw VerifierError.einval("same insn cannot be used with different pointers");
        }
    }


    static void checkCtxPtrOff(RegState r, int regno) throws VerifierError {
        if (r.off() < 0) {
            throw VerifierError.eacces("negative offset " + r.typeName() + " ptr R" + regno + " off=" + r.off() + " disallowed");
        }
        if (r.off() != 0) {
            throw VerifierError.eacces("dereference of modified " + r.typeName() + " ptr R" + regno + " off=" + r.off()
                    + " disallowed");
        }
        if (!r.val().isConst() || r.val().constValue() != 0) {
            throw VerifierError.eacces("variable " + r.typeName() + " access var_off=" + r.val().var() + " disallowed");
        }
    }

    /** check_mem_access. {@code valueReg} is the register loaded or stored, -1 for a store of an immediate. */
    void memAccess(VerifierState st, int idx, int regno, int insnOff, int size, boolean write, int valueReg,
                   boolean signExt) throws VerifierError {
        memAccess(st, idx, regno, insnOff, size, write, valueReg, signExt, false);
    }

    /** check_mem_access; {@code strict} is strict_alignment_once (atomics). */
    void memAccess(VerifierState st, int idx, int regno, int insnOff, int size, boolean write, int valueReg,
                   boolean signExt, boolean strict) throws VerifierError {
        RegState reg = st.regs[regno];
        checkPtrAlignment(reg, insnOff, size, strict);
        int off = insnOff + reg.off();
        RegState loaded = null;
        switch (reg.maybeNull() ? RegType.NOT_INIT : reg.type()) {
            case PTR_TO_MAP_VALUE -> {
                checkMapAccessType(reg, off, size, write);
                mapValueAccess(regno, reg, off, size, false);
                if (!write) {
                    loaded = RegState.UNKNOWN;
                }
            }
            case PTR_TO_CTX -> {
                checkCtxPtrOff(reg, regno);
                CtxAccess.Field f = CtxAccess.check(env.type, env.attach, off, size, write);
                if (f == null) {
                    throw VerifierError.eacces("invalid bpf_context access off=" + off + " size=" + size);
                }
                if (!write) {
                    if (f.type() == RegType.SCALAR) {
                        loaded = RegState.UNKNOWN;
                    } else {
                        loaded = new RegState(f.type(), f.maybeNull(), 0, Scalar.constant(0),
                                f.maybeNull() ? env.nextId() : 0, 0, null, 0);
                        if (f.type().isPacket() || f.type() == RegType.PTR_TO_PACKET_END) {
                            env.directPacketAccess = true;
                        }
                    }
                }
            }
            case PTR_TO_STACK -> {
                stackBounds(regno, reg, off, size, write ? " write to" : " read from");
                if (write) {
                    stackWrite(st, reg, off, size, valueReg);
                } else {
                    loaded = stackRead(st, regno, reg, off, size);
                }
            }
            case PTR_TO_PACKET, PTR_TO_PACKET_META -> {
                if (write) {
                    throw VerifierError.eacces("cannot write into packet");
                }
                packetAccess(regno, reg, off, size);
                loaded = RegState.UNKNOWN;
            }
            case PTR_TO_RINGBUF_MEM, PTR_TO_MEM -> loaded = CheckMemRegion.access(regno, reg, off, size, write);
            case PTR_TO_SOCKET, PTR_TO_SOCK_COMMON, PTR_TO_TCP_SOCK -> {
                if (write) {
                    throw VerifierError.eacces("R" + regno + " cannot write into " + reg.typeName());
                }
                sockAccess(regno, reg, off, size);
                loaded = RegState.UNKNOWN;
            }
            case CONST_PTR_TO_MAP -> {
                if (!write) {
                    // the kernel reads struct bpf_map (and its container) through BTF
                    throw VerifierError.einval("engine: reading struct bpf_map fields needs the kernel's BTF,"
                            + " which the engine verifier does not model");
                }
                throw invalidMemAccess(regno, reg);
            }
            case PTR_TO_BTF_ID -> {
                if (write) {
                    throw VerifierError.eacces("only read is supported");
                }
                throw VerifierError.einval("engine: reading " + RegType.BTF_TASK_STRUCT
                        + " fields needs the kernel's BTF, which the engine verifier does not model");
            }
            default -> throw invalidMemAccess(regno, reg);
        }
        if (!write && valueReg >= 0) {
            if (loaded.isScalar() && size < 8) {
                // a narrowing fill breaks the link with the slot; one the value fits in keeps it
                int id = !signExt && CheckAlu.fitsIn(loaded.val(), 8 * size) ? loaded.id() : 0;
                loaded = RegState.scalar(signExt ? ScalarAlu.signExtend(loaded.val(), size * 8, false)
                        : coerce(loaded.val(), size)).withId(id);
            }
            st.regs[valueReg] = loaded;
        }
    }

    /** The kernel's refusal of a load or store through a pointer that is not memory. */
    private static VerifierError invalidMemAccess(int regno, RegState reg) {
        return VerifierError.eacces("R" + regno + " invalid mem access '" + reg.typeName() + "'");
    }

    /** coerce_reg_to_size: keeps the low {@code size} bytes. */
    private static Scalar coerce(Scalar v, int size) {
        if (v.isConst()) {
            return Scalar.constant(v.constValue() & ((1L << (size * 8)) - 1));
        }
        long max = (1L << (size * 8)) - 1;
        if (Long.compareUnsigned(v.umax(), max) <= 0) {
            return v;
        }
        return Scalar.unsignedOfSize(size);
    }

    /** BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG: what programs may do with the map's values. */
    static final int BPF_F_RDONLY_PROG = 0x80;
    static final int BPF_F_WRONLY_PROG = 0x100;

    /**
     * check_map_access_type: a map created BPF_F_RDONLY_PROG takes no write from programs (direct
     * or by a helper), one created BPF_F_WRONLY_PROG no read. {@code off} counts the pointer's
     * fixed offset, not its variable part.
     */
    static void checkMapAccessType(RegState reg, int off, int size, boolean write) throws VerifierError {
        int flags = reg.map() == null ? 0 : reg.map().flags();
        int forbidden = write ? BPF_F_RDONLY_PROG : BPF_F_WRONLY_PROG;
        if ((flags & forbidden) != 0) {
            throw VerifierError.eacces((write ? "write into" : "read from") + " map forbidden, value_size="
                    + reg.map().valueSize() + " off=" + off + " size=" + size);
        }
    }

    void mapValueAccess(int regno, RegState reg, int off, int size, boolean helper) throws VerifierError {
        int vs = reg.map() == null ? 0 : reg.map().valueSize();
        Scalar v = reg.val();
        if (v.smin() < 0 && (v.smin() == Long.MIN_VALUE || off + v.smin() != (int) (off + v.smin()) || v.smin() + off < 0)) {
            throw VerifierError.eacces("R" + regno + " min value is negative, either use unsigned index or do a if (index >=0) check.");
        }
        if (!memOk(v.smin() + off, size, vs)) {
            throw VerifierError.eacces("invalid access to map value, value_size=" + vs + " off=" + (v.smin() + off)
                    + " size=" + size + "\nR" + regno + " min value is outside of the allowed memory range");
        }
        if (Long.compareUnsigned(v.umax(), DoCheck.MAX_VAR_OFF) >= 0) {
            throw VerifierError.eacces("R" + regno + " unbounded memory access, make sure to bounds check any such access");
        }
        if (!memOk(v.umax() + off, size, vs)) {
            throw VerifierError.eacces("invalid access to map value, value_size=" + vs + " off=" + (v.umax() + off)
                    + " size=" + size + "\nR" + regno + " max value is outside of the allowed memory range");
        }
    }

    private static boolean memOk(long off, int size, int memSize) {
        return size > 0 && off >= 0 && size <= memSize && off + size <= memSize;
    }

    void packetAccess(int regno, RegState reg, int off, int size) throws VerifierError {
        if (reg.val().smin() < 0) {
            throw VerifierError.eacces("R" + regno + " min value is negative, either use unsigned index or do a if (index >=0) check.");
        }
        if (!memOk(off, size, reg.range())) {
            throw VerifierError.eacces("invalid access to packet, off=" + off + " size=" + size + ", R" + regno + "(id="
                    + reg.id() + ",off=" + off + ",r=" + reg.range() + ")\nR" + regno + " offset is outside of the packet");
        }
    }

    private void sockAccess(int regno, RegState reg, int off, int size) throws VerifierError {
        if (reg.off() != 0 || !reg.val().isConst() || reg.val().constValue() != 0) {
            throw VerifierError.eacces("R" + regno + " invalid " + reg.typeName() + " access off=" + off + " size=" + size);
        }
        boolean ok = switch (reg.type()) {
            case PTR_TO_SOCKET -> CtxAccess.bpfSock(off, size);
            // bpf_sock_common_is_valid_access: struct bpf_sock without type..priority
            case PTR_TO_SOCK_COMMON -> !(off >= CtxAccess.SK_TYPE && off < CtxAccess.SK_PRIORITY + 4)
                    && CtxAccess.bpfSock(off, size);
            case PTR_TO_TCP_SOCK -> BpfTcpSock.isValidAccess(off, size);
            default -> false;
        };
        if (!ok) {
            throw VerifierError.eacces("R" + regno + " invalid " + reg.typeName() + " access off=" + off + " size=" + size);
        }
    }

    /** check_stack_access_within_bounds. */
    void stackBounds(int regno, RegState reg, int off, int size, String what) throws VerifierError {
        long minOff;
        long maxOff;
        Scalar v = reg.val();
        if (v.isConst()) {
            minOff = v.constValue() + off;
            maxOff = minOff + size;
        } else {
            if (v.smax() >= DoCheck.MAX_VAR_OFF || v.smin() <= -DoCheck.MAX_VAR_OFF) {
                throw VerifierError.eacces("invalid unbounded variable-offset" + what + " stack R" + regno);
            }
            minOff = v.smin() + off;
            maxOff = v.smax() + off + size;
        }
        Errno err = null;
        if (minOff < -MAX_BPF_STACK || minOff > -1) {
            err = Errno.EACCES;
        } else if (maxOff > 0) {
            err = Errno.EINVAL;
        }
        if (err != null) {
            if (v.isConst()) {
                throw new VerifierError(err, "invalid" + what + " stack R" + regno + " off=" + (off + v.constValue()) + " size=" + size);
            }
            throw new VerifierError(err, "invalid variable-offset" + what + " stack R" + regno + " var_off=" + v.var()
                    + " off=" + off + " size=" + size);
        }
        // grow_stack_state: the deepest byte touched sets the stack depth of the subprogram whose frame it is in
        if (env.state != null) {
            env.growStack(env.state.stackOf(reg).subprog, (int) -minOff);
        }
    }

    /**
     * check_stack_write: the write goes to the stack of the frame the pointer points into, which
     * may be a caller's (a pointer passed down in R1-R5); the value comes from the current frame.
     */
    private void stackWrite(VerifierState cur, RegState reg, int off, int size, int valueReg) throws VerifierError {
        FuncState st = cur.stackOf(reg);
        if (!reg.val().isConst()) {
            // check_stack_write_var_off: every byte it may touch becomes misc (a zero register
            // keeps zeros zero), spills are destroyed, and every slot shows in the log
            boolean writingZero = valueReg >= 0 && cur.regs[valueReg].isNullConst();
            long lo = reg.val().smin() + off + MAX_BPF_STACK;
            long hi = reg.val().smax() + off + size + MAX_BPF_STACK;
            for (long b = lo; b < hi; b++) {
                CheckDynptr.destroy(env, cur, st, (int) b / 8);
                clearSlot(st, (int) b / 8);
                boolean keepZero = writingZero && st.stype[(int) b] == STACK_ZERO;
                st.stype[(int) b] = keepZero ? STACK_ZERO : STACK_MISC;
                env.scratchedStack |= 1L << ((int) b / 8);
            }
            return;
        }
        int at = (int) (reg.val().constValue() + off + MAX_BPF_STACK);
        RegState value = valueReg >= 0 ? cur.regs[valueReg] : null;
        int slot = at / 8;
        CheckDynptr.destroy(env, cur, st, slot);
        // the kernel marks the slot index scratched whatever frame it belongs to
        env.scratchedStack |= 1L << slot;
        if (value != null && value.isPointer() && size != 8) {
            throw VerifierError.eacces("invalid size of register spill");
        }
        if (value != null && value.type() == RegType.PTR_TO_STACK && st != cur.cur()) {
            // the caller would keep a pointer into a frame that is gone once the callee returns
            throw VerifierError.einval("cannot spill pointers to stack into stack frame of the caller");
        }
        // check_stack_write_fixed_off: a register (any size for scalars) or an immediate at an
        // 8-aligned slot is remembered as a spill; other writes just make bytes misc or zero
        boolean stImm = value == null && env.stMem;
        if (at % 8 == 0 && (value != null || stImm)) {
            RegState v = value != null ? value : RegState.constant(env.stImm);
            if (value != null && value.isScalar()) {
                // a spill links the stack slot and the register like a copy, unless it narrows the value
                if (CheckAlu.fitsIn(value.val(), 8 * size)) {
                    v = CheckAlu.linkable(env, value);
                    cur.regs[valueReg] = v;
                } else {
                    v = value.withId(0);
                }
            }
            clearSlot(st, slot);
            st.spill[slot] = v;
            st.spillSize[slot] = (byte) size;
            for (int i = 0; i < size; i++) {
                st.stype[at + i] = STACK_SPILL;
            }
            return;
        }
        if (st.spill[slot] != null) {
            clearSlot(st, slot);
        }
        // the data an atomic writes back is unknown: misc, even over zeros
        boolean zero = value != null ? value.isNullConst() : stImm && env.stImm == 0;
        for (int i = 0; i < size; i++) {
            st.stype[at + i] = zero ? STACK_ZERO : STACK_MISC;
        }
    }

    /** A data write into a slot with a spill: the spill is gone, its bytes become misc. */
    static void clearSlot(VerifierState st, int slot) {
        clearSlot(st.cur(), slot);
    }

    /** {@link #clearSlot(VerifierState, int)} in a given frame. */
    static void clearSlot(FuncState st, int slot) {
        if (st.spill[slot] == null) {
            return;
        }
        st.spill[slot] = null;
        st.spillSize[slot] = 0;
        for (int i = 0; i < 8; i++) {
            if (st.stype[8 * slot + i] == STACK_SPILL) {
                st.stype[8 * slot + i] = STACK_MISC;
            }
        }
    }

    /** check_stack_read, in the frame the pointer points into. */
    private RegState stackRead(VerifierState cur, int regno, RegState reg, int off, int size) throws VerifierError {
        FuncState st = cur.stackOf(reg);
        if (!reg.val().isConst()) {
            long lo = reg.val().smin() + off + MAX_BPF_STACK;
            long hi = reg.val().smax() + off + size + MAX_BPF_STACK;
            CheckDynptr.checkRangeRead(st, regno, reg, lo, hi, size);
            for (long b = lo; b < hi; b++) {
                RegState sp = st.spill[(int) b / 8];
                if (sp != null && sp.isPointer()) {
                    return RegState.UNKNOWN;
                }
            }
            return RegState.UNKNOWN;
        }
        int at = (int) (reg.val().constValue() + off + MAX_BPF_STACK);
        int slot = at / 8;
        // a read scratches its slot for the log too (by index, whatever frame it is in)
        env.scratchedStack |= 1L << slot;
        RegState sp = st.spill[slot];
        if (sp != null && st.stype[at] == STACK_SPILL) {
            int spillSize = st.spillSize[slot];
            if (at % 8 == 0 && size == spillSize) {
                return sp;
            }
            if (sp.isPointer()) {
                throw VerifierError.eacces("invalid size of register fill");
            }
            if (at % 8 == 0 && size < spillSize) {
                return sp; // coerced to the load size by the caller
            }
            return RegState.UNKNOWN;
        }
        CheckDynptr.checkRead(st, at, size);
        int zeros = 0;
        for (int i = 0; i < size; i++) {
            if (st.stype[at + i] == STACK_ZERO) {
                zeros++;
            }
        }
        return zeros == size ? RegState.constant(0) : RegState.UNKNOWN;
    }

    void checkAtomic(int idx, Insn insn, VerifierState st) throws VerifierError {
        int imm = insn.imm();
        if (imm == LOAD_ACQ || imm == STORE_REL) {
            checkLoadAcquireStoreRelease(idx, insn, st, imm == LOAD_ACQ);
            return;
        }
        boolean known = switch (imm) {
            case ADD, AND, OR, XOR, ADD | FETCH, AND | FETCH, OR | FETCH, XOR | FETCH, XCHG, CMPXCHG -> true;
            default -> false;
        };
        if (!known) {
            throw VerifierError.einval("BPF_ATOMIC uses invalid atomic opcode " + String.format("%02x", imm));
        }
        int size = size(insn.code());
        if (size != W && size != DW) {
            throw VerifierError.einval("invalid atomic operand size");
        }
        checkRegRead(st, insn.src());
        checkRegRead(st, insn.dst());
        if (imm == CMPXCHG) {
            checkRegRead(st, 0);
        }
        RegState dst = st.regs[insn.dst()];
        if (dst.type() == RegType.PTR_TO_CTX || dst.type().isPacket() || dst.type().isSocket()) {
            throw VerifierError.eacces("BPF_ATOMIC stores into R" + insn.dst() + " " + dst.typeName() + " is not allowed");
        }
        int loadReg = (imm & FETCH) != 0 ? (imm == CMPXCHG ? 0 : insn.src()) : -1;
        if (loadReg >= 0) {
            // check_reg_arg(DST_OP) marks the load register unknown at once, even when it is also the address
            checkRegWrite(loadReg);
            st.regs[loadReg] = RegState.UNKNOWN;
            dst = st.regs[insn.dst()];
        }
        int bytes = sizeBytes(size);
        RegType t = dst.type();
        // as check_atomic_rmw: can the memory be read, (for fetch) into the load register, then written;
        // atomics insist on natural alignment whatever the pointer
        memAccess(st, idx, insn.dst(), insn.off(), bytes, false, -1, false, true);
        if (loadReg >= 0) {
            memAccess(st, idx, insn.dst(), insn.off(), bytes, false, loadReg, false, true);
        }
        memAccess(st, idx, insn.dst(), insn.off(), bytes, true, -1, false, true);
        auxPtr(idx, t);
    }

    static final int LOAD_ACQ = 0x100;
    static final int STORE_REL = 0x110;

    /**
     * check_atomic_load / check_atomic_store: load-acquire and store-release are a load and a
     * store with strict alignment, then refused on context, packet and socket pointers. They are
     * kernel extensions beyond RFC 9669 that the engine does not run: a program that passes
     * every check is still refused at the end (see {@link VerifierEnv#unsupported}).
     */
    private void checkLoadAcquireStoreRelease(int idx, Insn insn, VerifierState st, boolean load) throws VerifierError {
        int bytes = sizeBytes(size(insn.code()));
        int ptr = load ? insn.src() : insn.dst();
        checkRegRead(st, insn.src());
        if (load) {
            checkRegWrite(insn.dst());
        } else {
            checkRegRead(st, insn.dst());
        }
        RegState p = st.regs[ptr];
        memAccess(st, idx, ptr, insn.off(), bytes, !load, load ? insn.dst() : insn.src(), false, true);
        if (p.type() == RegType.PTR_TO_CTX || p.type().isPacket() || p.type().isSocket()) {
            throw VerifierError.eacces("BPF_ATOMIC " + (load ? "loads from" : "stores into") + " R" + ptr + " "
                    + p.typeName() + " is not allowed");
        }
        auxPtr(idx, p.type());
        if (env.unsupported == null) {
            env.unsupported = "engine: " + (load ? "load_acquire" : "store_release")
                    + " is a kernel extension beyond RFC 9669 the engine does not run";
        }
    }

    /**
     * check_ptr_alignment: the stack always needs natural alignment, other memory only when the
     * access asks for it (atomics); packets count from a 2-byte IP alignment.
     */
    private static void checkPtrAlignment(RegState reg, int insnOff, int size, boolean strict) throws VerifierError {
        boolean maybeNull = reg.maybeNull();
        if (!maybeNull && reg.type().isPacket()) {
            if (!strict || size == 1) {
                return;
            }
            Tnum at = reg.val().var().add(Tnum.constant(2L + reg.off() + insnOff));
            if (!at.isAligned(size)) {
                throw VerifierError.eacces("misaligned packet access off 2+" + tnumStr(reg.val().var()) + "+" + reg.off()
                        + "+" + insnOff + " size " + size);
            }
            return;
        }
        boolean stack = !maybeNull && reg.type() == RegType.PTR_TO_STACK;
        if (!(strict || stack) || size == 1) {
            return;
        }
        Tnum at = reg.val().var().add(Tnum.constant((long) reg.off() + insnOff));
        if (!at.isAligned(size)) {
            throw VerifierError.eacces("misaligned " + (maybeNull ? "" : alignDesc(reg.type())) + "access off "
                    + tnumStr(reg.val().var()) + "+" + reg.off() + "+" + insnOff + " size " + size);
        }
    }

    /** tnum_strn as the alignment messages show it: a known value as a number. */
    private static String tnumStr(Tnum t) {
        return t.isConst() ? StatePrinter.udec(t.value()) : t.toString();
    }

    /** check_ptr_alignment's name for a pointer kind in "misaligned ...access". */
    private static String alignDesc(RegType t) {
        return switch (t) {
            case PTR_TO_CTX -> "context ";
            case PTR_TO_STACK -> "stack ";
            case PTR_TO_MAP_VALUE -> "value ";
            case PTR_TO_SOCKET -> "sock ";
            case PTR_TO_SOCK_COMMON -> "sock_common ";
            case PTR_TO_TCP_SOCK -> "tcp_sock ";
            default -> "";
        };
    }
}
