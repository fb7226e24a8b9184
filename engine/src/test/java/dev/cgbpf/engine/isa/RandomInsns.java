package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random valid instructions of every kind RFC 9669 defines, with random registers, offsets and
 * immediates (edge values favoured), for property tests. Fields the kernel does not print (exit's
 * offset, a kfunc's BTF fd index) are generated as 0, see {@link Disassembler}.
 */
final class RandomInsns {
    static final int[] ALU_OPS = {ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, ARSH, MOV};
    static final int[] JMP_OPS = {JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE};
    static final int[] SIZES = {B, H, W, DW};
    static final int[] ATOMIC_OPS = {ADD, OR, AND, XOR, ADD | FETCH, OR | FETCH, AND | FETCH, XOR | FETCH, XCHG, CMPXCHG};
    /** Map fds that have names in the round-trip resolvers. */
    static final int NAMED_FD_MIN = 3;
    static final int NAMED_FD_MAX = 9;

    private final Random rnd;

    RandomInsns(Random rnd) {
        this.rnd = rnd;
    }

    Program program(int insns) {
        List<Insn> out = new ArrayList<>();
        for (int i = 0; i < insns; i++) {
            out.addAll(insn());
        }
        return new Program(out);
    }

    /** One instruction: one slot, or two for LD_IMM64. */
    List<Insn> insn() {
        int kind = rnd.nextInt(16);
        return switch (kind) {
            case 0, 1 -> List.of(aluImm());
            case 2, 3 -> List.of(aluReg());
            case 4 -> List.of(aluSpecial());
            case 5, 6 -> List.of(jmpCond());
            case 7 -> List.of(jmpOther());
            case 8 -> ldImm64();
            case 9 -> List.of(ldPacket());
            case 10 -> List.of(ldx());
            case 11 -> List.of(new Insn(ST | MEM | pick(SIZES), reg(), 0, s16(), s32()));
            case 12 -> List.of(new Insn(STX | MEM | pick(SIZES), reg(), reg(), s16(), 0));
            case 13 -> List.of(new Insn(STX | ATOMIC | (rnd.nextBoolean() ? W : DW), reg(), reg(), s16(), pick(ATOMIC_OPS)));
            case 14 -> List.of(call());
            default -> List.of(new Insn(JMP | EXIT, 0, 0, 0, 0));
        };
    }

    private int cls() {
        return rnd.nextBoolean() ? ALU : ALU64;
    }

    private Insn aluImm() {
        int op = pick(ALU_OPS);
        int off = (op == DIV || op == MOD) && rnd.nextBoolean() ? 1 : 0;
        return new Insn(cls() | op | K, reg(), 0, off, s32());
    }

    private Insn aluReg() {
        int op = pick(ALU_OPS);
        int off = (op == DIV || op == MOD) && rnd.nextBoolean() ? 1 : 0;
        return new Insn(cls() | op | X, reg(), reg(), off, 0);
    }

    private Insn aluSpecial() {
        return switch (rnd.nextInt(4)) {
            case 0 -> new Insn(cls() | NEG, reg(), 0, 0, 0);
            case 1 -> new Insn(ALU | END | (rnd.nextBoolean() ? TO_BE : TO_LE), reg(), 0, 0, width());
            case 2 -> new Insn(ALU64 | END, reg(), 0, 0, width());
            default -> {
                boolean is64 = rnd.nextBoolean();
                int[] offs = is64 ? new int[] {8, 16, 32} : new int[] {8, 16};
                yield new Insn((is64 ? ALU64 : ALU) | MOV | X, reg(), reg(), pick(offs), 0);
            }
        };
    }

    private int width() {
        return pick(new int[] {16, 32, 64});
    }

    private Insn jmpCond() {
        int cls = rnd.nextBoolean() ? JMP : JMP32;
        int op = pick(JMP_OPS);
        return rnd.nextBoolean() ? new Insn(cls | op | K, reg(), 0, s16(), s32())
                : new Insn(cls | op | X, reg(), reg(), s16(), 0);
    }

    private Insn jmpOther() {
        return rnd.nextBoolean() ? new Insn(JMP | JA, 0, 0, s16(), 0) : new Insn(JMP32 | JA, 0, 0, 0, s32());
    }

    private Insn call() {
        return switch (rnd.nextInt(4)) {
            case 0 -> new Insn(JMP | CALL, 0, 0, 0, rnd.nextInt(HelperIds.maxId()));
            case 1 -> new Insn(JMP | CALL, 0, 0, 0, rnd.nextBoolean() ? HelperIds.maxId() + rnd.nextInt(1000) : -1 - rnd.nextInt(5));
            case 2 -> new Insn(JMP | CALL, 0, PSEUDO_CALL, 0, s32());
            default -> new Insn(JMP | CALL, 0, PSEUDO_KFUNC_CALL, 0, s32());
        };
    }

    private List<Insn> ldImm64() {
        int dst = reg();
        int src = rnd.nextInt(7);
        int lo = s32();
        int hi = s32();
        switch (src) {
            case PSEUDO_MAP_FD, PSEUDO_MAP_VALUE -> {
                lo = rnd.nextBoolean() ? NAMED_FD_MIN + rnd.nextInt(NAMED_FD_MAX - NAMED_FD_MIN + 1) : rnd.nextInt(1000);
                hi = src == PSEUDO_MAP_FD ? 0 : hi;
            }
            case PSEUDO_MAP_IDX, PSEUDO_FUNC -> hi = 0;
            default -> {
            }
        }
        return List.of(new Insn(LD_IMM64, dst, src, 0, lo), new Insn(0, 0, 0, 0, hi));
    }

    private Insn ldPacket() {
        int size = pick(new int[] {B, H, W});
        return rnd.nextBoolean() ? new Insn(LD | ABS | size, 0, 0, 0, s32()) : new Insn(LD | IND | size, 0, reg(), 0, s32());
    }

    private Insn ldx() {
        if (rnd.nextBoolean()) {
            return new Insn(LDX | MEM | pick(SIZES), reg(), reg(), s16(), 0);
        }
        return new Insn(LDX | MEMSX | pick(new int[] {B, H, W}), reg(), reg(), s16(), 0);
    }

    private int reg() {
        return rnd.nextInt(Encoding.MAX_REG + 1);
    }

    private int s16() {
        return switch (rnd.nextInt(5)) {
            case 0 -> 0;
            case 1 -> rnd.nextBoolean() ? Short.MIN_VALUE : Short.MAX_VALUE;
            case 2 -> rnd.nextInt(33) - 16;
            default -> rnd.nextInt(1 << 16) + Short.MIN_VALUE;
        };
    }

    private int s32() {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> pick(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 1, 0xffff, 0x8000});
            case 2 -> rnd.nextInt(257) - 128;
            default -> rnd.nextInt();
        };
    }

    private int pick(int[] values) {
        return values[rnd.nextInt(values.length)];
    }
}
