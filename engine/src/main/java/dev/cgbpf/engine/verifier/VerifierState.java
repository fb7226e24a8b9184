package dev.cgbpf.engine.verifier;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * The abstract machine state on one path (struct bpf_verifier_state): the chain of call frames
 * ({@link FuncState}, the main program's first, the running subprogram's last) and what belongs to
 * the whole path, the acquired references.
 *
 * <p>{@link #regs}, {@link #stype}, {@link #spill} and {@link #spillSize} are the current
 * (innermost) frame's arrays: the checks of one instruction work on them directly, as the kernel's
 * cur_regs(). They are re-pointed whenever a call pushes or an exit pops a frame.
 */
final class VerifierState {
    static final int MAX_BPF_STACK = 512;
    /** MAX_CALL_FRAMES: the main program and up to seven nested subprogram calls */
    static final int MAX_CALL_FRAMES = 8;
    static final byte STACK_INVALID = 0, STACK_MISC = 1, STACK_ZERO = 2, STACK_SPILL = 3;
    /** a byte of a dynptr (two slots; what each holds is in {@link FuncState#dynptr}) */
    static final byte STACK_DYNPTR = 4;

    private final FuncState[] frames = new FuncState[MAX_CALL_FRAMES];
    private int curframe;

    RegState[] regs;
    /** byte i is fp-512+i */
    byte[] stype;
    /** slot k covers fp-512+8k .. fp-512+8k+7 */
    RegState[] spill;
    /** bytes of the slot the spill covers, from its lowest address (8, or 1..4 for a narrow scalar spill) */
    byte[] spillSize;
    /**
     * References acquired on this path and not yet released (the kernel's acquired_refs, kept per
     * path, not per frame). Treated as immutable: a change makes a new array.
     */
    AcquiredRef[] refs = AcquiredRef.NONE;
    Checkpoint checkpoint;

    /** A path state with the main program's frame, all registers unreadable (callers set R1 and R10). */
    VerifierState() {
        this(new FuncState(-1, 0, 0));
        Arrays.fill(regs, RegState.NOT_INIT);
    }

    private VerifierState(FuncState main) {
        frames[0] = main;
        curframe = 0;
        point();
    }

    /** Makes the fields for the current frame refer to its arrays. */
    private void point() {
        FuncState f = frames[curframe];
        regs = f.regs;
        stype = f.stype;
        spill = f.spill;
        spillSize = f.spillSize;
    }

    int curframe() {
        return curframe;
    }

    /** The current (innermost) frame. */
    FuncState cur() {
        return frames[curframe];
    }

    /** Frame {@code i} of the chain, 0 being the main program's. */
    FuncState frame(int i) {
        return frames[i];
    }

    /**
     * frame_insn_idx: where frame {@code fr} stands while the current frame is at {@code insn}: a
     * caller stands at its call instruction.
     */
    int frameInsn(int fr, int insn) {
        return fr == curframe ? insn : frames[fr + 1].callsite;
    }

    /**
     * The frame whose stack a stack pointer points into (the kernel's func(env, reg)). A pointer
     * can only point into its own frame or a caller's: a callee's frame pointer never outlives
     * the call (it may not be returned nor stored into a caller's stack).
     */
    FuncState stackOf(RegState ptr) {
        return frames[ptr.frameno()];
    }

    /** setup_func_entry: {@code callee} becomes the current frame. */
    void pushFrame(FuncState callee) {
        frames[++curframe] = callee;
        point();
    }

    /** prepare_func_exit: the current frame is dropped and its caller runs again. */
    FuncState popFrame() {
        FuncState callee = frames[curframe];
        frames[curframe--] = null;
        point();
        return callee;
    }

    VerifierState copy() {
        VerifierState s = new VerifierState(frames[0].copy());
        for (int i = 1; i <= curframe; i++) {
            s.frames[i] = frames[i].copy();
        }
        s.curframe = curframe;
        s.point();
        s.refs = refs;
        s.checkpoint = checkpoint;
        return s;
    }

    /**
     * Applies {@code f} to every register and every spilled register of every frame (the kernel's
     * bpf_for_each_reg_in_vstate), storing what it returns: how a null check, a packet range or a
     * released reference reaches all copies of a pointer, wherever in the call chain they sit.
     */
    void mapAllRegs(UnaryOperator<RegState> f) {
        for (int fr = 0; fr <= curframe; fr++) {
            frames[fr].mapRegs(f);
        }
    }

    /** A hash of every frame's registers: most loop checks end here, which keeps long loops linear. */
    int regsHash() {
        int h = curframe;
        for (int fr = 0; fr <= curframe; fr++) {
            h = 31 * h + Arrays.hashCode(frames[fr].regs) + frames[fr].callsite;
        }
        return h;
    }

    /** Same call chain (frames and their call sites) with identical registers in every frame. */
    boolean sameRegs(VerifierState o) {
        if (curframe != o.curframe) {
            return false;
        }
        for (int fr = 0; fr <= curframe; fr++) {
            if (frames[fr].callsite != o.frames[fr].callsite || !Arrays.equals(frames[fr].regs, o.frames[fr].regs)) {
                return false;
            }
        }
        return true;
    }

    /** The stack part of {@link #within}, for every frame of the same call chain. */
    boolean stackWithin(VerifierState old) {
        if (curframe != old.curframe) {
            return false;
        }
        IdMap ids = new IdMap();
        for (int fr = 0; fr <= curframe; fr++) {
            if (frames[fr].callsite != old.frames[fr].callsite || !frames[fr].stackWithin(old.frames[fr], ids)) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when this state is covered by the already-verified {@code old}: every path from it is
     * safe (states_equal). States in different call chains (another depth, another call site in
     * any frame) never cover each other: what happens after a return depends on the caller. Ids
     * are compared through one {@link IdMap} over all frames and the references held (refsafe);
     * registers dead at the instruction ({@link Liveness}) are not compared.
     */
    boolean within(VerifierState old, short[] liveBefore, int insn) {
        if (curframe != old.curframe || refs.length != old.refs.length) {
            return false;
        }
        IdMap ids = new IdMap();
        for (int fr = 0; fr <= curframe; fr++) {
            // a caller's registers matter as they are live at its call instruction
            if (!frames[fr].within(old.frames[fr], ids, liveBefore[frameInsn(fr, insn)])) {
                return false;
            }
        }
        for (int i = 0; i < refs.length; i++) {
            if (!ids.check(old.refs[i].id(), refs[i].id())) {
                return false;
            }
        }
        return true;
    }
}
