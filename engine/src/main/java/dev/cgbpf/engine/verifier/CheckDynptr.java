package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.verifier.VerifierState.*;

/**
 * Dynptr stack slots (the kernel's process_dynptr_func, mark_stack_slots_dynptr,
 * unmark_stack_slots_dynptr and destroy_if_dynptr_stack_slot). A dynptr lives in two 8-byte stack
 * slots of the frame its pointer points into; the helper that makes one (bpf_dynptr_from_mem,
 * bpf_ringbuf_reserve_dynptr) wants 16 bytes at an 8-aligned constant offset and writes both slots
 * as the program could; the others want an initialized one. A store into either slot destroys it
 * (and its bpf_dynptr_data slices), unless it holds a ring buffer reference: that one must be
 * submitted or discarded, which ends the reference, the dynptr and its slices.
 */
final class CheckDynptr {
    private final VerifierEnv env;
    private final CheckMemAccess mem;

    CheckDynptr(VerifierEnv env, CheckMemAccess mem) {
        this.env = env;
        this.mem = mem;
    }

    /** what dynptr_get_spi answers for a pointer that cannot hold a dynptr */
    private static final int NO_SLOT = Integer.MIN_VALUE;

    /**
     * dynptr_get_spi: the index of the first (lower) slot of the dynptr {@code reg} points to, or
     * {@link #NO_SLOT}: the offset must be constant, 8-aligned and leave 16 bytes below fp. An
     * offset past the stack (-ERANGE in the kernel, whose stack grows on demand) is left to the
     * stack bounds check, as the kernel does for an uninitialized one.
     */
    private static int firstSlot(RegState reg) {
        if (!reg.val().isConst()) {
            return NO_SLOT;
        }
        long off = reg.off() + reg.val().constValue();
        if (off % 8 != 0 || off > -16) {
            return NO_SLOT;
        }
        return (int) ((off + MAX_BPF_STACK) / 8);
    }

    /**
     * The line dynptr_get_spi prints before it answers that {@code reg} holds no dynptr, or ""
     * (with its newline: the caller's reason follows on the next line).
     */
    private static String spiLine(RegState reg) {
        if (reg.type() != RegType.PTR_TO_STACK) {
            return "";
        }
        if (!reg.val().isConst()) {
            return "dynptr has to be at a constant offset\n";
        }
        long off = reg.off() + reg.val().constValue();
        return off % 8 != 0 || off > -16 ? "cannot pass in dynptr at an offset=" + off + "\n" : "";
    }

    private static boolean inStack(int k) {
        return k >= 0 && k + 1 < MAX_BPF_STACK / 8;
    }

    /**
     * An argument that makes a dynptr (ARG_PTR_TO_DYNPTR | MEM_UNINIT): any 16 bytes that hold no
     * referenced dynptr; an unreferenced one there is destroyed by the two 8-byte writes.
     */
    void makeDynptr(VerifierState st, int insnIdx, int regno, DynptrSlot.Kind kind) throws VerifierError {
        RegState reg = st.regs[regno];
        if (reg.type() != RegType.PTR_TO_STACK || firstSlot(reg) == NO_SLOT) {
            throw VerifierError.einval(spiLine(reg) + "Dynptr has to be an uninitialized dynptr");
        }
        int k = firstSlot(reg);
        FuncState fs = st.stackOf(reg);
        for (int i = 0; i < 2; i++) {
            // check_mem_access of an 8-byte write, as the kernel simulates it for each slot
            mem.stackBounds(regno, reg, reg.off() + 8 * i, 8, " write to");
            destroy(env, st, fs, k + i);
            CheckMemAccess.clearSlot(fs, k + i);
            env.scratchedStack |= 1L << (k + i);
        }
        int id = env.nextId();
        int ref = kind.refcounted() ? CheckReferences.acquire(env, st, insnIdx) : 0;
        for (int i = 0; i < 2; i++) {
            fs.dynptr[k + i] = new DynptrSlot(kind, i == 0, id, ref);
            java.util.Arrays.fill(fs.stype, 8 * (k + i), 8 * (k + i) + 8, STACK_DYNPTR);
        }
    }

    /**
     * An argument that uses a dynptr (ARG_PTR_TO_DYNPTR, with MEM_RDONLY or OBJ_RELEASE): the
     * pointer must point to the first slot of an initialized one. The kernel counts arguments
     * from 0 in this message.
     */
    DynptrSlot initialized(VerifierState st, int regno) throws VerifierError {
        RegState reg = st.regs[regno];
        int k = reg.type() == RegType.PTR_TO_STACK ? firstSlot(reg) : NO_SLOT;
        DynptrSlot d = inStack(k) ? st.stackOf(reg).dynptr[k] : null;
        if (d == null || !d.first() || st.stackOf(reg).dynptr[k + 1] == null) {
            throw VerifierError.einval(spiLine(reg) + "Expected an initialized dynptr as arg #" + (regno - 1));
        }
        env.scratchedStack |= 3L << k; // the log shows the dynptr after the call
        return d;
    }

    /**
     * The OBJ_RELEASE check of a dynptr argument, made before it is checked to be initialized:
     * the slot pointed to must hold a reference (either slot of a ring buffer dynptr does).
     */
    static void checkReleasable(VerifierState st, int regno) throws VerifierError {
        RegState reg = st.regs[regno];
        int k = firstSlot(reg);
        DynptrSlot d = inStack(k) ? st.stackOf(reg).dynptr[k] : null;
        if (d == null || d.refObjId() == 0) {
            throw VerifierError.einval(spiLine(reg) + "arg " + regno + " is an unacquired reference");
        }
    }

    /**
     * unmark_stack_slots_dynptr for bpf_ringbuf_submit/discard_dynptr: the reference ends, and
     * with it every slice (a register carrying it) and every dynptr slot holding it.
     */
    void release(VerifierState st, int regno) {
        RegState reg = st.regs[regno];
        FuncState fs = st.stackOf(reg);
        int ref = fs.dynptr[firstSlot(reg)].refObjId();
        CheckReferences.release(st, ref);
        for (int k = 0; k < fs.dynptr.length; k++) {
            if (fs.dynptr[k] != null && fs.dynptr[k].first() && fs.dynptr[k].refObjId() == ref) {
                invalidate(fs, k);
            }
        }
    }

    /**
     * destroy_if_dynptr_stack_slot: a write into slot {@code k} of frame {@code fs} ends the dynptr
     * there, both its slots, and makes its slices unknown scalars (mark_reg_invalid for a loader
     * allowed to leak pointers); a referenced one may not be overwritten.
     */
    static void destroy(VerifierEnv env, VerifierState st, FuncState fs, int k) throws VerifierError {
        DynptrSlot d = fs.dynptr[k];
        if (d == null) {
            return;
        }
        if (d.kind().refcounted()) {
            throw VerifierError.einval("cannot overwrite referenced dynptr");
        }
        int first = d.first() ? k : k - 1;
        env.scratchedStack |= 3L << first;
        invalidate(fs, first);
        st.mapAllRegs(r -> r.dynptrId() == d.id() ? RegState.UNKNOWN : r);
    }

    private static void invalidate(FuncState fs, int first) {
        fs.dynptr[first] = null;
        fs.dynptr[first + 1] = null;
        java.util.Arrays.fill(fs.stype, 8 * first, 8 * first + 16, STACK_INVALID);
    }

    /**
     * check_stack_read_fixed_off: a load may not read a dynptr's bytes ({@code at} is the first
     * byte read, counted from fp-512).
     */
    static void checkRead(FuncState fs, int at, int size) throws VerifierError {
        for (int i = 0; i < size; i++) {
            if (fs.stype[at + i] == STACK_DYNPTR) {
                throw VerifierError.eacces("invalid read from stack off " + (at - MAX_BPF_STACK) + "+" + i + " size " + size);
            }
        }
    }

    /**
     * check_stack_range_initialized: a helper, or a load at a variable offset, may not read a
     * dynptr's bytes. {@code lo} to {@code hi} are the bytes it may touch (counted from fp-512),
     * {@code size} its size; the kernel names the first dynptr byte from the lowest offset.
     */
    static void checkRangeRead(FuncState fs, int regno, RegState reg, long lo, long hi, int size) throws VerifierError {
        for (long b = Math.max(0, lo); b < Math.min(MAX_BPF_STACK, hi); b++) {
            if (fs.stype[(int) b] == STACK_DYNPTR) {
                String at = reg.val().isConst() ? "off " + (lo - MAX_BPF_STACK) : "var_off " + reg.val().var();
                throw VerifierError.eacces("invalid read from stack R" + regno + " " + at + "+" + (b - lo) + " size " + size);
            }
        }
    }

    /**
     * check_stack_range_initialized in raw mode (a constant offset): a helper may not write over
     * a dynptr's bytes ({@code lo} to {@code hi}, counted from fp-512).
     */
    static void checkHelperWrite(FuncState fs, long lo, long hi) throws VerifierError {
        for (long b = Math.max(0, lo); b < Math.min(MAX_BPF_STACK, hi); b++) {
            if (fs.stype[(int) b] == STACK_DYNPTR) {
                throw VerifierError.eacces("potential write to dynptr at off=" + (b - MAX_BPF_STACK) + " disallowed");
            }
        }
    }
}
