package dev.cgbpf.tools.fuzz;

import static dev.cgbpf.engine.isa.AluOp.*;
import static dev.cgbpf.engine.isa.JumpOp.*;
import static dev.cgbpf.engine.isa.Opcodes.ALU;
import static dev.cgbpf.engine.isa.Opcodes.ALU64;
import static dev.cgbpf.engine.isa.Opcodes.ATOMIC;
import static dev.cgbpf.engine.isa.Opcodes.CALL;
import static dev.cgbpf.engine.isa.Opcodes.EXIT;
import static dev.cgbpf.engine.isa.Opcodes.JMP;
import static dev.cgbpf.engine.isa.Opcodes.JMP32;
import static dev.cgbpf.engine.isa.Opcodes.K;
import static dev.cgbpf.engine.isa.Opcodes.LDX;
import static dev.cgbpf.engine.isa.Opcodes.LD_IMM64;
import static dev.cgbpf.engine.isa.Opcodes.MEM;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_CALL;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_MAP_FD;
import static dev.cgbpf.engine.isa.Opcodes.ST;
import static dev.cgbpf.engine.isa.Opcodes.STX;
import static dev.cgbpf.engine.isa.Opcodes.X;
import static dev.cgbpf.engine.isa.Size.*;

import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.AtomicOp;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random programs for {@link Fuzz}: mostly plausible ones (registers set before use, loads from
 * the context, the stack and map values, forward branches, an exit with R0 set), which exercise
 * the analysis deeply, then mutated: a field changed, a slot dropped or duplicated, raw random
 * slots. Plausible programs are accepted often enough for the soundness direction to be tested.
 * About one program in four has subprograms after the main program's exit, called with stack,
 * context or scalar arguments, which read and write through them, use their own stack, call each
 * other and return values (some of them broken: a stack pointer returned or spilled into the
 * caller, recursion, too much stack along a chain).
 */
final class FuzzProgramGenerator {
    private final SplittableRandom rnd;
    private final int[] mapFds;

    FuzzProgramGenerator(long seed, int[] mapFds) {
        this.rnd = new SplittableRandom(seed);
        this.mapFds = mapFds;
    }

    /** Call sites waiting for their subprogram's position: slot index to subprogram number. */
    private final List<int[]> callFixups = new ArrayList<>();
    private int subprogs;

    Program next() {
        return next(true);
    }

    /** @param mutate whether half the programs get mutated (the verifier fuzz); run fuzzing wants them runnable */
    Program next(boolean mutate) {
        callFixups.clear();
        subprogs = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(3) : 0;
        List<Insn> p = plausible();
        appendSubprogs(p);
        int mutations = !mutate || rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(2);
        for (int i = 0; i < mutations; i++) {
            mutate(p);
        }
        if (p.isEmpty()) {
            p.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        }
        return new Program(p);
    }

    private int reg() {
        return rnd.nextInt(10);
    }

    private int smallImm() {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> rnd.nextInt(-8, 9);
            case 3 -> rnd.nextInt(256);
            case 4 -> 1 << rnd.nextInt(32);
            default -> rnd.nextInt();
        };
    }

    // Slots are built raw (not with Asm: mutate() breaks them on purpose), but the operations
    // are picked from typed tables, so no jump can end up among the ALU operations. The tables'
    // order is part of what a seed generates: keep it.
    private static final Size[] SIZES = {W, H, B, DW};
    private static final AluOp[] ALU_OPS = {ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR, MOV, ARSH};
    private static final JumpOp[] CONDS = {JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE};
    private static final AtomicOp[] ATOMIC_OPS = {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR,
        AtomicOp.FETCH_ADD, AtomicOp.FETCH_OR, AtomicOp.FETCH_AND, AtomicOp.FETCH_XOR, AtomicOp.XCHG, AtomicOp.CMPXCHG};

    private List<Insn> plausible() {
        List<Insn> p = new ArrayList<>();
        // a few registers get values first
        p.add(new Insn(ALU64 | MOV.bits() | X, 6, 1, 0, 0));
        for (int r : new int[] {0, 2, 3, 4, 5, 7, 8, 9}) {
            if (rnd.nextInt(20) != 0) {
                p.add(new Insn(ALU64 | MOV.bits() | K, r, 0, 0, rnd.nextInt(4) == 0 ? smallImm() : rnd.nextInt(16)));
            }
        }
        // with subprograms, shorter bodies: every part must pass for the program to be accepted
        body(p, subprogs > 0 ? 1 + rnd.nextInt(8) : 3 + rnd.nextInt(20), 0);
        if (subprogs > 0) {
            call(p, 0, 0); // the first subprogram is called at least once
        }
        if (rnd.nextInt(5) != 0) {
            p.add(new Insn(ALU64 | MOV.bits() | K, 0, 0, 0, rnd.nextInt(4) == 0 ? smallImm() : rnd.nextInt(2)));
        }
        p.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        return p;
    }

    /**
     * Subprograms after the main program: each may use R1 as a pointer (a caller's stack, the
     * context), its own stack, call a later subprogram (rarely itself), and return a value.
     */
    private void appendSubprogs(List<Insn> p) {
        int[] start = new int[subprogs];
        for (int s = 0; s < subprogs; s++) {
            start[s] = p.size();
            // R6-R9 start unreadable in a callee: most subprograms set them first
            for (int r = 6; r <= 9; r++) {
                if (rnd.nextInt(4) != 0) {
                    p.add(r == 6 && rnd.nextBoolean() ? new Insn(ALU64 | MOV.bits() | X, 6, 1, 0, 0)
                            : new Insn(ALU64 | MOV.bits() | K, r, 0, 0, rnd.nextInt(16)));
                }
            }
            switch (rnd.nextInt(4)) {
                case 0 -> p.add(new Insn(ALU64 | MOV.bits() | X, 6, 1, 0, 0));
                case 1 -> p.add(new Insn(STX | MEM | (rnd.nextInt(4) == 0 ? SIZES[rnd.nextInt(4)] : DW).bits(), 1,
                        rnd.nextInt(4) == 0 ? reg() : 7 + rnd.nextInt(3), 8 * rnd.nextInt(2), 0));
                case 2 -> p.add(new Insn(LDX | MEM | SIZES[rnd.nextInt(4)].bits(), 7 + rnd.nextInt(3), 1, 8 * rnd.nextInt(2), 0));
                default -> {
                }
            }
            if (rnd.nextInt(8) == 0) { // deep own stack: the combined limit
                p.add(new Insn(ST | MEM | DW.bits(), 10, 0, -8 * (1 + rnd.nextInt(64)), 0));
            }
            if (rnd.nextInt(16) == 0) { // a stack pointer into the caller's frame
                p.add(new Insn(STX | MEM | DW.bits(), 1, 10, 0, 0));
            }
            body(p, rnd.nextInt(5), s + 1);
            if (s + 1 < subprogs && rnd.nextInt(8) != 0) {
                call(p, s + 1, s + 1); // the next one is called at least once (rarely it is left unreachable)
            }
            switch (rnd.nextInt(16)) {
                case 0, 1 -> p.add(new Insn(ALU64 | MOV.bits() | X, 0, rnd.nextInt(8) == 0 ? 10 : 1, 0, 0));
                case 2 -> {
                }
                default -> p.add(new Insn(ALU64 | MOV.bits() | K, 0, 0, 0, rnd.nextInt(3)));
            }
            p.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        }
        for (int[] f : callFixups) {
            p.set(f[0], new Insn(JMP | CALL, 0, PSEUDO_CALL, 0, start[f[1]] - f[0] - 1));
        }
    }

    /**
     * A call from {@code level} of subprogram {@code target}, or (target -1) of a random one
     * after this level, rarely of this one or an earlier one (recursion): arguments set up, then
     * a placeholder call.
     */
    private void call(List<Insn> p, int level, int target) {
        if (target < 0) {
            if (subprogs == 0 || (level >= subprogs && rnd.nextInt(8) != 0)) {
                return;
            }
            target = level < subprogs && rnd.nextInt(8) != 0 ? rnd.nextInt(level, subprogs) : rnd.nextInt(subprogs);
        }
        switch (rnd.nextInt(8)) {
            case 0, 1, 2, 3, 4 -> { // a pointer into this frame's stack, often initialised
                p.add(new Insn(ALU64 | MOV.bits() | X, 1, 10, 0, 0));
                int off = -8 * (2 + rnd.nextInt(4));
                p.add(new Insn(ALU64 | ADD.bits() | K, 1, 0, 0, off));
                if (rnd.nextBoolean()) {
                    p.add(new Insn(ST | MEM | DW.bits(), 10, 0, off, smallImm()));
                }
            }
            case 5, 6 -> p.add(new Insn(ALU64 | MOV.bits() | X, 1, 6, 0, 0));
            default -> p.add(new Insn(ALU64 | MOV.bits() | K, 1, 0, 0, smallImm()));
        }
        if (rnd.nextBoolean()) {
            p.add(new Insn(ALU64 | MOV.bits() | K, 2, 0, 0, rnd.nextInt(16)));
        }
        callFixups.add(new int[] {p.size(), target});
        p.add(new Insn(JMP | CALL, 0, PSEUDO_CALL, 0, 0));
        reinitArgs(p);
    }

    /** {@code n} random instructions; {@code level} is 0 in the main program, s+1 in subprogram s. */
    private void body(List<Insn> p, int n, int level) {
        for (int i = 0; i < n; i++) {
            if (rnd.nextInt(14) == 0) {
                linkedCopies(p);
                continue;
            }
            switch (rnd.nextInt(subprogs > 0 ? 15 : 13)) {
                case 13, 14 -> call(p, level, -1);
                case 0, 1 -> p.add(new Insn(ALU64 | MOV.bits() | K, reg(), 0, 0, smallImm()));
                case 2 -> { // context load: offset 0 as a word is readable in every program type
                    Size size = rnd.nextBoolean() ? W : SIZES[rnd.nextInt(4)];
                    int off = rnd.nextBoolean() ? 0 : rnd.nextInt(0, 200) & ~(size.bytes() - 1);
                    if (off == 0 && rnd.nextInt(4) != 0) {
                        size = W;
                    }
                    p.add(new Insn(LDX | MEM | size.bits(), reg(), rnd.nextInt(8) == 0 ? reg() : 6, off, 0));
                }
                case 11 -> { // an atomic on a stack slot (or, rarely, through another register)
                    Size size = rnd.nextBoolean() ? W : DW;
                    int off = -8 * (1 + rnd.nextInt(4));
                    p.add(new Insn(STX | MEM | size.bits(), 10, reg(), off, 0));
                    p.add(new Insn(STX | ATOMIC | size.bits(), rnd.nextInt(6) == 0 ? reg() : 10, reg(), off,
                            ATOMIC_OPS[rnd.nextInt(ATOMIC_OPS.length)].imm()));
                }
                case 3 -> { // stack store/load
                    Size size = SIZES[rnd.nextInt(4)];
                    int off = -8 * (1 + rnd.nextInt(8)) + (rnd.nextInt(6) == 0 ? rnd.nextInt(-4, 4) : 0);
                    if (rnd.nextBoolean()) {
                        p.add(new Insn(STX | MEM | size.bits(), 10, reg(), off, 0));
                    } else if (rnd.nextBoolean()) {
                        p.add(new Insn(ST | MEM | size.bits(), 10, 0, off, smallImm()));
                    } else {
                        p.add(new Insn(LDX | MEM | size.bits(), reg(), 10, off, 0));
                    }
                }
                case 4, 5 -> { // ALU
                    AluOp op = ALU_OPS[rnd.nextInt(ALU_OPS.length)];
                    int cls = rnd.nextInt(3) == 0 ? ALU : ALU64;
                    if (op == NEG) {
                        p.add(new Insn(cls | NEG.bits(), reg(), 0, 0, 0));
                    } else if (rnd.nextBoolean()) {
                        int imm = op == LSH || op == RSH || op == ARSH ? rnd.nextInt(cls == ALU ? 32 : 64) : smallImm();
                        if ((op == DIV || op == MOD) && imm == 0) {
                            imm = 3;
                        }
                        p.add(new Insn(cls | op.bits() | K, reg(), 0, 0, imm));
                    } else {
                        p.add(new Insn(cls | op.bits() | X, reg(), reg(), 0, 0));
                    }
                }
                case 6 -> { // pointer arithmetic on the stack pointer or a copy of ctx
                    int r = reg();
                    p.add(new Insn(ALU64 | MOV.bits() | X, r, rnd.nextBoolean() ? 10 : 6, 0, 0));
                    p.add(new Insn(ALU64 | ADD.bits() | K, r, 0, 0, rnd.nextInt(-64, 64)));
                }
                case 7 -> { // map lookup, sometimes null-checked, then a value access
                    int fd = mapFds[rnd.nextInt(mapFds.length)];
                    p.add(new Insn(ST | MEM | W.bits(), 10, 0, -4, rnd.nextInt(4)));
                    p.add(new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, fd));
                    p.add(new Insn(0, 0, 0, 0, 0));
                    p.add(new Insn(ALU64 | MOV.bits() | X, 2, 10, 0, 0));
                    p.add(new Insn(ALU64 | ADD.bits() | K, 2, 0, 0, -4));
                    p.add(new Insn(JMP | CALL, 0, 0, 0, 1));
                    boolean check = rnd.nextInt(4) != 0;
                    if (check) {
                        p.add(new Insn(JMP | JEQ.bits() | K, 0, 0, 1, 0));
                    }
                    Size size = SIZES[rnd.nextInt(4)];
                    // mostly inside the smaller value (8 bytes), sometimes anywhere up to the larger one
                    int limit = rnd.nextInt(4) == 0 ? 56 : 9 - size.bytes();
                    p.add(new Insn(LDX | MEM | size.bits(), reg(), 0, rnd.nextInt(0, limit) & ~(size.bytes() - 1), 0));
                    reinitArgs(p);
                }
                case 8, 9 -> { // forward conditional jump over a few instructions
                    JumpOp op = CONDS[rnd.nextInt(CONDS.length)];
                    int cls = rnd.nextInt(3) == 0 ? JMP32 : JMP;
                    int skip = rnd.nextInt(1, 4);
                    if (rnd.nextBoolean()) {
                        p.add(new Insn(cls | op.bits() | K, reg(), 0, skip, smallImm()));
                    } else {
                        p.add(new Insn(cls | op.bits() | X, reg(), reg(), skip, 0));
                    }
                    for (int k = 0; k < skip; k++) {
                        p.add(new Insn(ALU64 | MOV.bits() | K, reg(), 0, 0, smallImm()));
                    }
                }
                case 10 -> { // a helper with no or simple arguments
                    int[] ids = {5, 7, 8, 14, 15, 80, 46, 47, 79, 26, 16};
                    int id = ids[rnd.nextInt(ids.length)];
                    if (id == 26 || id == 16) {
                        p.add(new Insn(ALU64 | MOV.bits() | X, id == 26 ? 3 : 1, 10, 0, 0));
                        p.add(new Insn(ALU64 | ADD.bits() | K, id == 26 ? 3 : 1, 0, 0, -16));
                        p.add(new Insn(ALU64 | MOV.bits() | K, id == 26 ? 4 : 2, 0, 0, rnd.nextInt(0, 20)));
                        if (id == 26) {
                            p.add(new Insn(ALU64 | MOV.bits() | X, 1, 6, 0, 0));
                            p.add(new Insn(ALU64 | MOV.bits() | K, 2, 0, 0, 0));
                        }
                    } else if (id == 46 || id == 47 || id == 79) {
                        p.add(new Insn(ALU64 | MOV.bits() | X, 1, 6, 0, 0));
                    }
                    p.add(new Insn(JMP | CALL, 0, 0, 0, id));
                    reinitArgs(p);
                }
                default -> { // a bounded backward loop
                    int r = 7 + rnd.nextInt(3);
                    p.add(new Insn(ALU64 | MOV.bits() | K, r, 0, 0, rnd.nextInt(1, 6)));
                    p.add(new Insn(ALU64 | ADD.bits() | K, r, 0, 0, -1));
                    p.add(new Insn(JMP | (rnd.nextInt(5) == 0 ? JSGE : JNE).bits() | K, r, 0, -2, 0));
                }
            }
        }
    }

    /**
     * Linked scalars: an unknown number, a copy of it (mov, 32-bit mov, or a spill and fill, then
     * perhaps plus or minus a constant), a branch that bounds one of the two, and the other as a
     * stack offset: right only if the kernel's (and the engine's) link carries the bound over.
     */
    private void linkedCopies(List<Insn> p) {
        int a = 7 + rnd.nextInt(2);
        int b = a == 7 ? 8 : 7;
        p.add(new Insn(LDX | MEM | (rnd.nextInt(4) == 0 ? DW : W).bits(), a, rnd.nextInt(6) == 0 ? reg() : 6, 0, 0));
        switch (rnd.nextInt(4)) {
            case 0 -> p.add(new Insn(ALU | MOV.bits() | X, b, a, 0, 0));
            case 1 -> {
                int off = -8 * (1 + rnd.nextInt(4));
                Size size = rnd.nextInt(4) == 0 ? W : DW;
                p.add(new Insn(STX | MEM | size.bits(), 10, a, off, 0));
                p.add(new Insn(LDX | MEM | size.bits(), b, 10, off, 0));
            }
            default -> p.add(new Insn(ALU64 | MOV.bits() | X, b, a, 0, 0));
        }
        if (rnd.nextBoolean()) {
            int cls = rnd.nextInt(3) == 0 ? ALU : ALU64;
            p.add(new Insn(cls | (rnd.nextBoolean() ? ADD : SUB).bits() | K, rnd.nextBoolean() ? b : a, 0, 0, smallImm()));
        }
        int bounded = rnd.nextBoolean() ? a : b;
        int used = rnd.nextInt(5) == 0 ? bounded : (bounded == a ? b : a);
        JumpOp[] ops = {JGT, JGE, JLT, JLE, JSGT, JSLT, JEQ, JNE};
        JumpOp op = ops[rnd.nextInt(ops.length)];
        p.add(new Insn((rnd.nextInt(4) == 0 ? JMP32 : JMP) | op.bits() | K, bounded, 0, 4, rnd.nextInt(0, 24)));
        p.add(new Insn(ALU64 | MOV.bits() | X, 1, 10, 0, 0));
        p.add(new Insn(ALU64 | ADD.bits() | K, 1, 0, 0, -32));
        p.add(new Insn(ALU64 | ADD.bits() | X, 1, used, 0, 0));
        p.add(new Insn(LDX | MEM | B.bits(), 0, 1, 0, 0));
    }

    /** A call leaves R1-R5 unreadable; most programs give some of them values again. */
    private void reinitArgs(List<Insn> p) {
        for (int r = 1; r <= 5; r++) {
            if (rnd.nextInt(10) != 0) {
                p.add(new Insn(ALU64 | MOV.bits() | K, r, 0, 0, rnd.nextInt(16)));
            }
        }
    }

    private void mutate(List<Insn> p) {
        if (p.isEmpty()) {
            return;
        }
        int i = rnd.nextInt(p.size());
        Insn s = p.get(i);
        switch (rnd.nextInt(8)) {
            case 0 -> p.remove(i);
            case 1 -> p.add(i, s);
            case 2 -> p.set(i, new Insn(s.code(), rnd.nextInt(16), s.src(), s.off(), s.imm()));
            case 3 -> p.set(i, new Insn(s.code(), s.dst(), rnd.nextInt(16), s.off(), s.imm()));
            case 4 -> p.set(i, new Insn(s.code(), s.dst(), s.src(), s.off() + rnd.nextInt(-9, 10), s.imm()));
            case 5 -> p.set(i, new Insn(s.code(), s.dst(), s.src(), s.off(), s.imm() + rnd.nextInt(-9, 10)));
            case 6 -> p.set(i, new Insn(rnd.nextInt(256), s.dst(), s.src(), s.off(), s.imm()));
            default -> p.set(i, new Insn(s.code() ^ (1 << rnd.nextInt(8)), s.dst(), s.src(), s.off(), s.imm()));
        }
    }
}
