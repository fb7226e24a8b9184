package dev.cgbpf.engine.interp;

/**
 * The caller state of bpf-to-bpf calls during one run: for each active call, where to return and
 * the caller's r6-r9 and r10 (callee-saved in the eBPF calling convention). The kernel's
 * interpreter keeps the same on its native stack; {@link Machine#MAX_FRAMES} bounds the depth as
 * MAX_CALL_FRAMES does. Created at a run's first call only, so runs without calls allocate none.
 */
final class CallFrames {
    private static final int SAVED = 5;

    private final int[] returnPc = new int[Machine.MAX_FRAMES];
    private final long[] saved = new long[Machine.MAX_FRAMES * SAVED];
    private int depth;

    /** Call frames as compiled code had them when it handed a run to the interpreter. */
    static CallFrames resumed(int depth, int[] returnPcs, long[] savedRegs) {
        CallFrames c = new CallFrames();
        c.depth = depth;
        System.arraycopy(returnPcs, 0, c.returnPc, 0, depth);
        System.arraycopy(savedRegs, 0, c.saved, 0, depth * SAVED);
        return c;
    }

    /** The call depth of the running function: 0 in the main program. */
    int depth() {
        return depth;
    }

    /**
     * Enters the function at {@code pc + 1 + imm}: saves the caller's r6-r10, gives the callee
     * its own frame in r10 and returns the callee's first instruction index minus one (the run
     * loop adds one).
     */
    int call(long[] r, int pc, int imm, Machine m) {
        if (depth + 1 >= Machine.MAX_FRAMES) {
            throw new Fault("the call stack of " + Machine.MAX_FRAMES + " frames is too deep");
        }
        returnPc[depth] = pc;
        System.arraycopy(r, 6, saved, depth * SAVED, SAVED);
        depth++;
        r[10] = m.frameTop(depth);
        return pc + imm;
    }

    /** Leaves the running function (depth > 0): restores the caller's r6-r10, returns the call's index. */
    int exit(long[] r) {
        depth--;
        System.arraycopy(saved, depth * SAVED, r, 6, SAVED);
        return returnPc[depth];
    }
}
