package dev.cgbpf.engine.jit;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;

/**
 * The control flow of one function (the main program or a subprogram, from its entry to its
 * exits) and what the compiler proves about its pointers: which instructions are reachable, where
 * blocks begin and how many instructions each executes, whether it loops, and, before each
 * instruction, which registers hold a fixed offset from the frame pointer or from the context
 * (the facts that let a stack access skip the machine's checks).
 *
 * <p>The pointer facts are a forward data-flow over the lattice {unknown, fp+K, ctx+K}: a move
 * copies, adding or subtracting an immediate shifts K, anything else that writes a register makes
 * it unknown; at a join differing facts become unknown. A bpf-to-bpf call leaves r6-r10 as they
 * were (the callee's are restored at its exit) and r0-r5 unknown.
 */
final class FunctionFlow {
    static final byte UNKNOWN = 0;
    static final byte FP = 1;
    static final byte CTX = 2;
    private static final int REGS = 11;

    final Program program;
    final int entry;
    /** Slots of the program plus the sentinel: reaching index n is falling off the end. */
    final int n;
    final BitSet reachable = new BitSet();
    final BitSet leaders = new BitSet();
    /** Per reachable index: the pointer kind and offset of each register before it runs. */
    private final byte[][] kinds;
    private final long[][] offsets;
    boolean loops;
    /** Bpf-to-bpf call targets in this function, by call index. */
    final BitSet calls = new BitSet();

    FunctionFlow(Program program, int entry, boolean main) {
        this.program = program;
        this.entry = entry;
        this.n = program.size();
        this.kinds = new byte[n + 1][];
        this.offsets = new long[n + 1][];
        walk();
        byte[] k = new byte[REGS];
        long[] o = new long[REGS];
        k[10] = FP;
        if (main) {
            k[1] = CTX;
        }
        analyse(k, o);
    }

    private void walk() {
        Deque<Integer> work = new ArrayDeque<>();
        work.push(entry);
        leaders.set(entry);
        while (!work.isEmpty()) {
            int pc = work.pop();
            if (reachable.get(pc)) {
                continue;
            }
            reachable.set(pc);
            for (int s : successors(pc)) {
                if (s <= pc && branches(pc)) {
                    loops = true;
                }
                if (!reachable.get(s)) {
                    work.push(s);
                }
            }
            if (pc < n) {
                InsnKind kind = InsnKind.of(program.get(pc).code());
                int[] succ = successors(pc);
                if (kind == InsnKind.COND || kind == InsnKind.JA || kind == InsnKind.JA32) {
                    for (int s : succ) {
                        leaders.set(s);
                    }
                } else if (kind == InsnKind.CALL && program.get(pc).src() == Opcodes.PSEUDO_CALL) {
                    calls.set(pc);
                    leaders.set(pc + 1);
                }
            }
        }
    }

    private boolean branches(int pc) {
        InsnKind k = InsnKind.of(program.get(pc).code());
        return k == InsnKind.COND || k == InsnKind.JA || k == InsnKind.JA32;
    }

    /** Where control goes after {@code pc} inside this function (a call's callee is not a successor). */
    int[] successors(int pc) {
        if (pc >= n) {
            return new int[0];
        }
        Insn insn = program.get(pc);
        return switch (InsnKind.of(insn.code())) {
            case EXIT, INVALID -> new int[0];
            case LD_IMM64 -> new int[] {pc + 2};
            case JA -> new int[] {pc + 1 + insn.off()};
            case JA32 -> new int[] {pc + 1 + insn.imm()};
            case COND -> new int[] {pc + 1, pc + 1 + insn.off()};
            default -> new int[] {pc + 1};
        };
    }

    /** Callee entry of the bpf-to-bpf call at {@code pc}. */
    int callee(int pc) {
        return pc + 1 + program.get(pc).imm();
    }

    /** Instructions the block starting at leader {@code pc} executes when it runs to its end. */
    int blockLength(int pc) {
        int len = 0;
        int at = pc;
        while (true) {
            len++;
            if (at >= n) {
                return len;
            }
            InsnKind k = InsnKind.of(program.get(at).code());
            boolean pseudoCall = k == InsnKind.CALL && program.get(at).src() == Opcodes.PSEUDO_CALL;
            if (k == InsnKind.EXIT || k == InsnKind.INVALID || k == InsnKind.COND || k == InsnKind.JA
                    || k == InsnKind.JA32 || pseudoCall) {
                return len;
            }
            at = successors(at)[0];
            if (leaders.get(at)) {
                return len;
            }
        }
    }

    /** Executed instructions if every reachable one runs once. */
    int instructionCount() {
        int count = 0;
        for (int pc = reachable.nextSetBit(0); pc >= 0; pc = reachable.nextSetBit(pc + 1)) {
            count++;
        }
        return count;
    }

    byte kind(int pc, int reg) {
        byte[] k = kinds[pc];
        return k == null ? UNKNOWN : k[reg];
    }

    long offset(int pc, int reg) {
        return offsets[pc][reg];
    }

    private void analyse(byte[] entryKinds, long[] entryOffsets) {
        kinds[entry] = entryKinds;
        offsets[entry] = entryOffsets;
        Deque<Integer> work = new ArrayDeque<>();
        work.add(entry);
        while (!work.isEmpty()) {
            int pc = work.poll();
            if (pc >= n) {
                continue;
            }
            byte[] k = kinds[pc].clone();
            long[] o = offsets[pc].clone();
            transfer(program.get(pc), pc, k, o);
            for (int s : successors(pc)) {
                if (merge(s, k, o)) {
                    work.add(s);
                }
            }
        }
    }

    /** Joins a state into the one before {@code pc}; true when that changed. */
    private boolean merge(int pc, byte[] k, long[] o) {
        if (kinds[pc] == null) {
            kinds[pc] = k.clone();
            offsets[pc] = o.clone();
            return true;
        }
        boolean changed = false;
        for (int r = 0; r < REGS; r++) {
            if (kinds[pc][r] != UNKNOWN && (kinds[pc][r] != k[r] || offsets[pc][r] != o[r])) {
                kinds[pc][r] = UNKNOWN;
                offsets[pc][r] = 0;
                changed = true;
            }
        }
        return changed;
    }

    private static void transfer(Insn insn, int pc, byte[] k, long[] o) {
        int code = insn.code();
        int d = insn.dst();
        switch (InsnKind.of(code)) {
            case ALU64 -> {
                if (code == 0xbf && insn.off() == 0) {
                    k[d] = k[insn.src()];
                    o[d] = o[insn.src()];
                } else if (code == 0x07 && k[d] != UNKNOWN) {
                    o[d] += insn.imm();
                } else if (code == 0x17 && k[d] != UNKNOWN) {
                    o[d] -= insn.imm();
                } else {
                    unknown(k, o, d);
                }
            }
            case ALU32, LDX, LDSX, LD_IMM64 -> unknown(k, o, d);
            case CALL -> {
                for (int r = 0; r <= 5; r++) {
                    unknown(k, o, r);
                }
            }
            case ATOMIC -> {
                if (insn.imm() == Opcodes.CMPXCHG) {
                    unknown(k, o, 0);
                } else if ((insn.imm() & Opcodes.FETCH) != 0) {
                    unknown(k, o, insn.src());
                }
            }
            case LD_ABS -> unknown(k, o, 0);
            default -> {
            }
        }
        // offsets far from the frame or context are left to the machine
        for (int r = 0; r < REGS; r++) {
            if (k[r] != UNKNOWN && Math.abs(o[r]) > (1 << 20)) {
                unknown(k, o, r);
            }
        }
    }

    private static void unknown(byte[] k, long[] o, int r) {
        if (r < REGS) {
            k[r] = UNKNOWN;
            o[r] = 0;
        }
    }

    @Override
    public String toString() {
        return "function at " + entry + " " + Arrays.toString(reachable.stream().toArray());
    }
}
