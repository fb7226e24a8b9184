package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;

/**
 * bpf_tail_call (helper 12), which the kernel's verifier rewrites into the BPF_TAIL_CALL
 * instruction: the interpreter jumps to the first instruction of the program in slot {@code index}
 * of a program array, with the same context, and never comes back. An index at or above
 * max_entries, an empty slot, or a run that already made {@link #MAX_TAIL_CALL_CNT} tail calls
 * falls through to the next instruction instead (kernel: ___bpf_prog_run, JMP_TAIL_CALL; the
 * count goes up before the slot is read, so a tail call into an empty slot counts too).
 */
public final class TailCall {
    /** BPF_FUNC_tail_call */
    public static final int HELPER_ID = 12;
    /** MAX_TAIL_CALL_CNT of include/linux/bpf.h. */
    public static final int MAX_TAIL_CALL_CNT = 33;

    private TailCall() {
    }

    /** Whether {@code insn} calls bpf_tail_call. */
    public static boolean isTailCall(Insn insn) {
        return insn.code() == (Opcodes.JMP | Opcodes.CALL) && insn.src() == 0 && insn.imm() == HELPER_ID;
    }

    /** Whether {@code p} holds a call of bpf_tail_call anywhere. */
    public static boolean makesTailCalls(Program p) {
        for (int i = 0; i < p.size(); i++) {
            if (isTailCall(p.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** A program as a program array holds it (a bpf_prog the array has a reference on). */
    public interface Target {
        /**
         * Runs the program from its first instruction on the machine of the run that tail-called
         * it, at most {@code budget} instructions, and returns its r0: the whole run's result.
         */
        long runTail(Machine m, long budget);
    }

    /** The slots of a BPF_MAP_TYPE_PROG_ARRAY as bpf_tail_call reads them. */
    public interface Array extends BpfMapOps {
        /** The program in slot {@code index} (below max_entries), or null when the slot is empty. */
        Target progAt(int index);
    }

    /**
     * The program a tail call through {@code mapAddress} (r2) with {@code index} (r3, as u32) goes
     * to, counting the call; null when it falls through.
     */
    static Target target(Machine m, long mapAddress, long index) {
        BpfMapOps map = m.mapObject(mapAddress).map();
        if (!(map instanceof Array array)) {
            throw new Fault("R2 of bpf_tail_call is not a program array (" + map.spec().type() + ")");
        }
        int i = (int) index;
        if (Integer.compareUnsigned(i, map.spec().maxEntries()) >= 0 || !m.countTailCall()) {
            return null;
        }
        return array.progAt(i);
    }
}
