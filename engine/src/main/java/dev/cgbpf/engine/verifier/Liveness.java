package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * compute_live_registers: which of R0-R9 each instruction may read before writing them, on some
 * path from it (the kernel's "Live regs before insn" table). A register that is dead at an
 * instruction cannot change what happens from there, so pruning ignores it (clean_func_state).
 *
 * <p>Reads and writes per instruction as the kernel counts them: a helper call reads the
 * arguments of its prototype ({@link HelperArgs}; R1-R5 for a helper the program type may not
 * call) and writes R0-R5; a bpf-to-bpf call reads R1-R5 and writes R0-R5; exit reads R0; LD_ABS
 * and LD_IND, which may end the program, read everything. Each function's exits end its paths: the caller's
 * registers flow past a call instruction to the next one.
 */
final class Liveness {
    private static final int CALLER_SAVED = 0b111111;
    private static final int ARGS = 0b111110;
    private static final int ALL = 0b1111111111;

    private Liveness() {
    }

    /**
     * Bit r of element i: Rr is live before instruction i, in a program of {@code type} loaded
     * for {@code attach} (which helpers it may call decides how many arguments a call reads).
     */
    static short[] liveBefore(Program prog, ProgType type, AttachType attach) {
        int n = prog.size();
        short[] use = new short[n];
        short[] def = new short[n];
        int[][] succ = new int[n][];
        for (int i = 0; i < n; i++) {
            Insn insn = prog.get(i);
            int u = 0;
            int d = 0;
            int[] next = {i + 1};
            switch (insn.cls()) {
                case ALU, ALU64 -> {
                    int op = op(insn.code());
                    if (op != MOV) {
                        u |= bit(insn.dst());
                    }
                    if (src(insn.code()) == X && op != NEG && op != END) {
                        u |= bit(insn.src());
                    }
                    d |= bit(insn.dst());
                }
                case LDX -> {
                    u |= bit(insn.src());
                    d |= bit(insn.dst());
                }
                case ST -> u |= bit(insn.dst());
                case STX -> {
                    u |= bit(insn.dst()) | bit(insn.src());
                    if (mode(insn.code()) == ATOMIC && insn.imm() == CheckMemAccess.LOAD_ACQ) {
                        // rD = load_acquire(rS + off): the destination is written, not read
                        u = bit(insn.src());
                        d |= bit(insn.dst());
                    } else if (mode(insn.code()) == ATOMIC) {
                        if (insn.imm() == CMPXCHG) {
                            u |= bit(0);
                            d |= bit(0);
                        } else if ((insn.imm() & FETCH) != 0) {
                            d |= bit(insn.src());
                        }
                    }
                }
                case LD -> {
                    int m = mode(insn.code());
                    if (m == ABS || m == IND) {
                        // it may end the program from inside: everything counts as read
                        u |= ALL;
                        d |= CALLER_SAVED;
                    } else if (insn.isLdImm64()) {
                        d |= bit(insn.dst());
                        next = new int[] {i + 2};
                    }
                }
                case JMP, JMP32 -> {
                    int op = op(insn.code());
                    if (op == EXIT) {
                        u |= bit(0);
                        next = new int[0];
                    } else if (op == CALL) {
                        if (insn.src() == 0) {
                            // a helper the program type may call reads its prototype's arguments;
                            // for any other call the kernel assumes all five
                            int args = HelperAllowlist.allowed(type, attach, insn.imm()) ? HelperArgs.count(insn.imm()) : -1;
                            u |= args < 0 ? ARGS : (1 << (args + 1)) - 2;
                        } else {
                            u |= ARGS;
                        }
                        d |= CALLER_SAVED;
                    } else if (op == JA) {
                        next = new int[] {i + 1 + (insn.cls() == JMP32 ? insn.imm() : insn.off())};
                    } else {
                        u |= bit(insn.dst());
                        if (src(insn.code()) == X) {
                            u |= bit(insn.src());
                        }
                        next = new int[] {i + 1, i + 1 + insn.off()};
                    }
                }
                default -> {
                }
            }
            use[i] = (short) u;
            def[i] = (short) d;
            succ[i] = next;
        }
        short[] live = new short[n];
        // backward dataflow to a fixed point; the predecessors are revisited when an insn grows
        int[][] pred = predecessors(succ, n);
        Deque<Integer> work = new ArrayDeque<>();
        boolean[] queued = new boolean[n];
        for (int i = n - 1; i >= 0; i--) {
            work.add(i);
            queued[i] = true;
        }
        while (!work.isEmpty()) {
            int i = work.poll();
            queued[i] = false;
            int out = 0;
            for (int s : succ[i]) {
                if (s >= 0 && s < n) {
                    out |= live[s];
                }
            }
            short in = (short) (use[i] | (out & ~def[i]));
            if (in != live[i]) {
                live[i] = in;
                for (int p : pred[i]) {
                    if (!queued[p]) {
                        queued[p] = true;
                        work.add(p);
                    }
                }
            }
        }
        return live;
    }

    private static int bit(int reg) {
        return reg >= 0 && reg < 10 ? 1 << reg : 0;
    }

    private static int[][] predecessors(int[][] succ, int n) {
        int[] count = new int[n];
        for (int[] ss : succ) {
            for (int s : ss) {
                if (s >= 0 && s < n) {
                    count[s]++;
                }
            }
        }
        int[][] pred = new int[n][];
        for (int i = 0; i < n; i++) {
            pred[i] = new int[count[i]];
        }
        int[] fill = new int[n];
        for (int i = 0; i < n; i++) {
            for (int s : succ[i]) {
                if (s >= 0 && s < n) {
                    pred[s][fill[s]++] = i;
                }
            }
        }
        return pred;
    }
}
