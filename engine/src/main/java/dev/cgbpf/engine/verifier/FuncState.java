package dev.cgbpf.engine.verifier;

import java.util.Arrays;

/**
 * One call frame of a path (the kernel's struct bpf_func_state): the eleven registers and the
 * 512-byte stack of one running subprogram, the instruction that called it ({@code callsite}, -1
 * for the main program) and its depth in the call chain ({@code frameno}, 0 for the main
 * program). Each stack byte has a slot type (STACK_INVALID, STACK_MISC, STACK_ZERO, STACK_SPILL);
 * an 8-byte slot holding a spilled register keeps its {@link RegState}.
 */
final class FuncState {
    final RegState[] regs = new RegState[11];
    /** byte i is fp-512+i */
    final byte[] stype = new byte[VerifierState.MAX_BPF_STACK];
    /** slot k covers fp-512+8k .. fp-512+8k+7 */
    final RegState[] spill = new RegState[VerifierState.MAX_BPF_STACK / 8];
    /** bytes of the slot the spill covers, from its lowest address (8, or 1..4 for a narrow scalar spill) */
    final byte[] spillSize = new byte[VerifierState.MAX_BPF_STACK / 8];
    /** for the slots whose bytes are STACK_DYNPTR: which dynptr, and which of its two slots */
    final DynptrSlot[] dynptr = new DynptrSlot[VerifierState.MAX_BPF_STACK / 8];
    final int callsite;
    final int frameno;
    /** index of the subprogram this frame runs, for its stack depth */
    final int subprog;

    FuncState(int callsite, int frameno, int subprog) {
        this.callsite = callsite;
        this.frameno = frameno;
        this.subprog = subprog;
    }

    /**
     * init_func_state: every register unreadable but R10, the frame pointer of this frame.
     */
    static FuncState entry(int callsite, int frameno, int subprog) {
        FuncState f = new FuncState(callsite, frameno, subprog);
        Arrays.fill(f.regs, RegState.NOT_INIT);
        f.regs[10] = RegState.pointer(RegType.PTR_TO_STACK, 0).withFrameno(frameno);
        return f;
    }

    /** Applies {@code f} to every register and spilled register of this frame. */
    void mapRegs(java.util.function.UnaryOperator<RegState> f) {
        for (int i = 0; i < regs.length; i++) {
            regs[i] = f.apply(regs[i]);
        }
        for (int k = 0; k < spill.length; k++) {
            if (spill[k] != null) {
                spill[k] = f.apply(spill[k]);
            }
        }
    }

    FuncState copy() {
        FuncState f = new FuncState(callsite, frameno, subprog);
        System.arraycopy(regs, 0, f.regs, 0, regs.length);
        System.arraycopy(stype, 0, f.stype, 0, stype.length);
        System.arraycopy(spill, 0, f.spill, 0, spill.length);
        System.arraycopy(spillSize, 0, f.spillSize, 0, spillSize.length);
        System.arraycopy(dynptr, 0, f.dynptr, 0, dynptr.length);
        return f;
    }

    /**
     * The registers and stack of this frame allow no more than {@code old}'s did (regsafe,
     * stacksafe); registers not in {@code liveRegs} (bit r for Rr) are dead here and not compared.
     */
    boolean within(FuncState old, IdMap ids, int liveRegs) {
        if (callsite != old.callsite) {
            return false;
        }
        for (int i = 0; i < regs.length; i++) {
            boolean dead = i < 10 && (liveRegs & (1 << i)) == 0;
            if (!dead && !regs[i].within(old.regs[i], ids)) {
                return false;
            }
        }
        return stackWithin(old, ids);
    }

    boolean stackWithin(FuncState old, IdMap ids) {
        for (int k = 0; k < spill.length; k++) {
            if (!slotWithin(k, old, ids)) {
                return false;
            }
        }
        return true;
    }

    private boolean slotWithin(int k, FuncState old, IdMap ids) {
        RegState os = old.spill[k];
        RegState cs = spill[k];
        if (old.dynptr[k] != null) {
            // stacksafe: the same kind of dynptr, the same slot of it, holding the same reference
            return dynptr[k] != null && dynptr[k].sameAs(old.dynptr[k], ids);
        }
        if (os != null) {
            return cs != null && cs.within(os, ids) && spillSize[k] == old.spillSize[k]
                    && Arrays.equals(stype, 8 * k, 8 * k + 8, old.stype, 8 * k, 8 * k + 8);
        }
        for (int i = 8 * k; i < 8 * k + 8; i++) {
            byte o = old.stype[i];
            byte c = stype[i];
            if (o == VerifierState.STACK_ZERO && c != VerifierState.STACK_ZERO) {
                return false;
            }
            if ((o == VerifierState.STACK_MISC || o == VerifierState.STACK_INVALID) && c == VerifierState.STACK_SPILL
                    && cs != null && !cs.isScalar()) {
                return false;
            }
        }
        return true;
    }
}
