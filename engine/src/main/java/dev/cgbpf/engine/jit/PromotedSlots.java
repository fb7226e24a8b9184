package dev.cgbpf.engine.jit;

import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.Arrays;

/**
 * The 8-byte slots of the main function's stack frame that compiled code keeps in long locals
 * instead of the frame's bytes, as the kernel's JIT keeps eBPF registers in machine registers:
 * a slot every direct access of which (an access the {@link FunctionFlow} proves inside the frame)
 * is an 8-byte load or store of exactly that slot. A store and a later load of such a slot are
 * then a local's write and read, which C2 turns into a register move, and the stores no longer
 * stand between two identical context reads (all byte arrays are one memory slice to C2).
 *
 * <p>The frame's bytes stay the truth for everything else: the locals are read from them when the
 * run starts, written back before anything that may look at the frame (a helper, an access
 * through an unproven pointer, the interpreter taking over, a fault, the run's end) and read
 * again after anything that may have written it; the next part of a cut program gets them as
 * parameters ({@link CarriedLocals}), or, when too many to pass, they are written back before
 * the call and read again there. So a run leaves the frame as the
 * interpreter leaves it, even one that reads a slot it never wrote (an unverified program sees
 * the previous run's bytes on both tiers).
 */
final class PromotedSlots {
    /** Local variable slot of the first promoted frame slot; each takes two (a long). */
    private final int firstLocal;
    /** Per 8-byte frame slot: its local, or -1. */
    private final int[] local = new int[Machine.STACK_SIZE / 8];
    private final int[] frameIndices;

    private PromotedSlots(int firstLocal, boolean[] good, boolean[] bad) {
        this.firstLocal = firstLocal;
        Arrays.fill(local, -1);
        int n = 0;
        int[] chosen = new int[local.length];
        for (int s = 0; s < local.length; s++) {
            if (good[s] && !bad[s]) {
                local[s] = firstLocal + 2 * n;
                chosen[n++] = 8 * s;
            }
        }
        frameIndices = Arrays.copyOf(chosen, n);
    }

    /** None promoted (a program whose frame is reached otherwise too often to be worth it). */
    static PromotedSlots none(int firstLocal) {
        return new PromotedSlots(firstLocal, new boolean[Machine.STACK_SIZE / 8], new boolean[Machine.STACK_SIZE / 8]);
    }

    /**
     * The slots of {@code main}'s frame (depth 0) to promote, from the direct accesses in it.
     * Accesses of other functions reach frame 0 only through pointers the flow does not prove,
     * which are the "anything else" above.
     */
    static PromotedSlots of(Program program, FunctionFlow main, int firstLocal) {
        boolean[] good = new boolean[Machine.STACK_SIZE / 8];
        boolean[] bad = new boolean[Machine.STACK_SIZE / 8];
        for (int pc = main.reachable.nextSetBit(0); pc >= 0 && pc < main.n; pc = main.reachable.nextSetBit(pc + 1)) {
            Insn insn = program.get(pc);
            InsnKind k = InsnKind.of(insn.code());
            int base;
            if (k == InsnKind.LDX || k == InsnKind.LDSX) {
                base = insn.src();
            } else if (k == InsnKind.ST || k == InsnKind.STX) {
                base = insn.dst();
            } else {
                continue;
            }
            int size = InsnKind.size(insn.code());
            int fi = frameIndex(main, pc, base, insn.off(), size);
            if (fi < 0) {
                continue;
            }
            if (size == 8 && fi % 8 == 0 && k != InsnKind.LDSX) {
                good[fi / 8] = true;
            } else {
                for (int b = fi; b < fi + size; b++) {
                    bad[b / 8] = true;
                }
            }
        }
        return new PromotedSlots(firstLocal, good, bad);
    }

    /** Index into the frame's bytes when the flow proves the access inside it, else -1. */
    static int frameIndex(FunctionFlow f, int pc, int base, int off, int size) {
        if (f.kind(pc, base) != FunctionFlow.FP) {
            return -1;
        }
        long i = f.offset(pc, base) + off + Machine.STACK_SIZE;
        return i >= 0 && i <= Machine.STACK_SIZE - size ? (int) i : -1;
    }

    /** The local holding the slot at frame index {@code fi}, or -1 when it is not promoted. */
    int local(int fi) {
        return fi % 8 == 0 ? local[fi / 8] : -1;
    }

    /** The promoted slots' frame indices, ascending. */
    int[] frameIndices() {
        return frameIndices;
    }

    int count() {
        return frameIndices.length;
    }

    /** The local slots these take, from the first to one past the last. */
    int localsEnd() {
        return firstLocal + 2 * frameIndices.length;
    }
}
